using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Blueprint.Testing.Tests;

public sealed partial class EventuallyTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Returns_once_the_condition_holds()
    {
        var polls = 0;

        await Eventually.TrueAsync(() => ++polls == 3, TimeSpan.FromSeconds(10), () => $"polls {polls}", Cancel);

        Assert.Equal(3, polls);
    }

    [Fact]
    public async Task An_asynchronous_condition_is_polled_until_it_holds()
    {
        var polls = 0;

        await Eventually.TrueAsync(async () => { await Task.Yield(); return ++polls == 4; }, TimeSpan.FromSeconds(10), () => $"polls {polls}", Cancel);

        Assert.Equal(4, polls);
    }

    [Fact]
    public async Task The_value_form_returns_the_value_accepted()
    {
        var reads = 0;

        var value = await Eventually.ValueAsync(() => Task.FromResult(++reads * 10), value => value >= 30, TimeSpan.FromSeconds(10), value => $"value {value}", Cancel);

        Assert.Equal(30, value);
        Assert.Equal(3, reads);
    }

    [Fact]
    public async Task A_timeout_describes_what_was_read_at_the_deadline()
    {
        var deadline = TimeSpan.FromMilliseconds(300);
        var started = Stopwatch.GetTimestamp();
        var described = 0;

        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => Eventually.ValueAsync(
            () => Task.FromResult(Stopwatch.GetElapsedTime(started).TotalMilliseconds),
            _ => false,
            deadline,
            elapsed => { described++; return $"read at {elapsed.ToString("0", CultureInfo.InvariantCulture)} ms"; },
            Cancel));

        Assert.Equal(1, described);
        var readAt = int.Parse(ReadAt().Match(timeout.Message).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(readAt, 300, 5_000);
        Assert.StartsWith("not within 0.3 s: read at ", timeout.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_condition_form_describes_the_state_at_the_deadline()
    {
        var polls = 0;

        var timeout = await Assert.ThrowsAsync<TimeoutException>(() =>
            Eventually.TrueAsync(() => ++polls < 0, TimeSpan.FromMilliseconds(200), () => $"{polls} polls", Cancel));

        Assert.True(polls > 1, $"{polls} polls");
        Assert.Equal($"not within 0.2 s: {polls} polls", timeout.Message);
    }

    [Fact]
    public async Task Cancellation_stops_the_wait_before_its_deadline()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var started = Stopwatch.GetTimestamp();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Eventually.TrueAsync(() => false, TimeSpan.FromSeconds(30), () => "never", cancel.Token));

        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(10));
    }

    [GeneratedRegex(@"read at (\d+) ms")]
    private static partial Regex ReadAt();
}
