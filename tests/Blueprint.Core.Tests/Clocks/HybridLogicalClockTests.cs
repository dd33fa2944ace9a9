using Blueprint.Core.Clocks;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Core.Tests.Clocks;

public sealed class HybridLogicalClockTests
{
    [Fact]
    public void Timestamps_follow_physical_time_and_count_within_one_millisecond()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        var clock = new HybridLogicalClock(time);

        var first = clock.Now();
        var second = clock.Now();
        Assert.Equal(1_700_000_000_000, HybridLogicalClock.PhysicalMilliseconds(first));
        Assert.Equal(0, HybridLogicalClock.Logical(first));
        Assert.Equal(first + 1, second);
        Assert.Equal(1, HybridLogicalClock.Logical(second));

        time.Advance(TimeSpan.FromMilliseconds(5));
        var third = clock.Now();
        Assert.Equal(HybridLogicalClock.Pack(1_700_000_000_005, 0), third);
    }

    [Fact]
    public void A_clock_that_goes_backwards_does_not_make_timestamps_go_backwards()
    {
        var time = new SettableTime { Now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000) };
        var clock = new HybridLogicalClock(time);
        var before = clock.Now();

        time.Now = DateTimeOffset.FromUnixTimeMilliseconds(1_699_999_999_000); // NTP stepped the clock back a second
        var after = clock.Now();
        Assert.True(after > before);
        Assert.Equal(1_700_000_000_000, HybridLogicalClock.PhysicalMilliseconds(after));
    }

    [Fact]
    public void An_observed_timestamp_from_a_clock_ahead_orders_later_events_after_it()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        var clock = new HybridLogicalClock(time);
        var remote = HybridLogicalClock.Pack(1_700_000_060_000, 7); // a node one minute ahead

        var observed = clock.Observe(remote);
        var next = clock.Now();
        Assert.Equal(remote + 1, observed);
        Assert.Equal(remote + 2, next);

        Assert.Equal(remote + 3, clock.Observe(HybridLogicalClock.Pack(1_600_000_000_000, 0))); // an old one changes nothing but the count
    }

    [Fact]
    public void Concurrent_callers_never_get_the_same_timestamp()
    {
        var clock = new HybridLogicalClock(new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000)));
        var stamps = new long[4][];
        Parallel.For(0, 4, worker =>
        {
            stamps[worker] = new long[10_000];
            for (var i = 0; i < 10_000; i++)
            {
                stamps[worker][i] = clock.Now();
            }
        });
        Assert.Equal(40_000, stamps.SelectMany(s => s).Distinct().Count());
        Assert.All(stamps, list => Assert.True(list.Zip(list.Skip(1)).All(pair => pair.First < pair.Second)));
    }

    /// <summary>A wall clock that can be set backwards (FakeTimeProvider refuses to).</summary>
    private sealed class SettableTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
