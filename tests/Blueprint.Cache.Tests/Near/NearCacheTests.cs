using Blueprint.Cache.Near;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Cache.Tests.Near;

public sealed class NearCacheTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Fill_ThenRead_ReturnsTheValue()
    {
        var near = new NearCache(100, 8, _time);
        var partition = near.PartitionOf("k");

        Assert.True(near.Fill("k", partition, near.EpochOf(partition), "v", [], Ttl));

        Assert.True(near.TryGet("k", out string value));
        Assert.Equal("v", value);
    }

    [Fact]
    public void Fill_AfterAnInvalidationOfItsPartition_IsRefused()
    {
        // The fill read the epoch, fetched the old value, and the invalidation was applied before it inserted.
        var near = new NearCache(100, 8, _time);
        var partition = near.PartitionOf("k");
        var epoch = near.EpochOf(partition);

        near.Invalidate("k", partition);

        Assert.False(near.Fill("k", partition, epoch, "old", [], Ttl));
        Assert.False(near.TryGet("k", out string _));
    }

    [Fact]
    public void Invalidate_AfterTheFillInserted_RemovesTheCopy()
    {
        var near = new NearCache(100, 8, _time);
        var partition = near.PartitionOf("k");
        Assert.True(near.Fill("k", partition, near.EpochOf(partition), "old", [], Ttl));

        near.Invalidate("k", partition);

        Assert.False(near.TryGet("k", out string _));
    }

    [Fact]
    public void MarkStale_DropsCopiesFilledBefore_KeepsThoseFilledAfter()
    {
        var near = new NearCache(100, 1, _time);
        Assert.True(near.Fill("before", 0, near.EpochOf(0), 1, [], Ttl));

        near.MarkStale(0);
        Assert.True(near.Fill("after", 0, near.EpochOf(0), 2, [], Ttl));

        Assert.False(near.TryGet("before", out int _));
        Assert.True(near.TryGet("after", out int after));
        Assert.Equal(2, after);
    }

    [Fact]
    public void InvalidateTag_DropsTaggedCopies_AndRefusesFillsInFlight()
    {
        var near = new NearCache(100, 8, _time);
        var tagged = near.PartitionOf("tagged");
        var other = near.PartitionOf("other");
        var inFlight = near.PartitionOf("in-flight");
        var inFlightEpoch = near.EpochOf(inFlight);
        Assert.True(near.Fill("tagged", tagged, near.EpochOf(tagged), 1, ["t"], Ttl));
        Assert.True(near.Fill("other", other, near.EpochOf(other), 2, ["u"], Ttl));

        near.InvalidateTag("t");

        Assert.False(near.TryGet("tagged", out int _));
        Assert.True(near.TryGet("other", out int _));
        Assert.False(near.Fill("in-flight", inFlight, inFlightEpoch, 3, ["t"], Ttl));
    }

    [Fact]
    public void TryGet_PastTheTtl_Misses()
    {
        var near = new NearCache(100, 8, _time);
        var partition = near.PartitionOf("k");
        Assert.True(near.Fill("k", partition, near.EpochOf(partition), "v", [], Ttl));

        _time.Advance(Ttl - TimeSpan.FromTicks(1));
        Assert.True(near.TryGet("k", out string _));
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.False(near.TryGet("k", out string _));
    }

    [Fact]
    public void TryGet_OfAnotherType_Misses()
    {
        var near = new NearCache(100, 8, _time);
        var partition = near.PartitionOf("k");
        Assert.True(near.Fill("k", partition, near.EpochOf(partition), "text", [], Ttl));

        Assert.False(near.TryGet("k", out int _));
    }

    [Fact]
    public void Fill_PastEntriesMax_KeepsAtMostThatMany()
    {
        const int EntriesMax = 64;
        var near = new NearCache(EntriesMax, 8, _time);
        for (var i = 0; i < EntriesMax * 4; i++)
        {
            var key = $"k{i}";
            var partition = near.PartitionOf(key);
            near.Fill(key, partition, near.EpochOf(partition), i, [], Ttl);
        }

        Assert.InRange(near.Count, 1, EntriesMax);
    }
}
