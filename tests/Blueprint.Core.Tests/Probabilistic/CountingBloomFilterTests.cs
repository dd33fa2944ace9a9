using Blueprint.Core.Probabilistic;

namespace Blueprint.Core.Tests.Probabilistic;

public sealed class CountingBloomFilterTests
{
    [Fact]
    public void Remove_ItemAddedTwice_AbsentAfterTwoRemovals()
    {
        CountingBloomFilter filter = new(1000, 0.001);
        filter.Add("x");
        filter.Add("x");
        Assert.Equal(2, filter.CountOf("x"));
        Assert.True(filter.Remove("x"));
        Assert.True(filter.Contains("x"));
        Assert.True(filter.Remove("x"));
        Assert.False(filter.Contains("x"));
    }

    [Fact]
    public void Add_BeyondCounterMax_SaturatesInsteadOfWrapping()
    {
        CountingBloomFilter filter = new(100, 0.01);
        for (int i = 0; i < CountingBloomFilter.CounterMax + 10; i++)
        {
            filter.Add("hot");
        }

        Assert.Equal(CountingBloomFilter.CounterMax, filter.CountOf("hot"));

        // A saturated counter has forgotten its true count, so removals must not bring it to zero.
        for (int i = 0; i < CountingBloomFilter.CounterMax + 10; i++)
        {
            _ = filter.Remove("hot");
        }

        Assert.True(filter.Contains("hot"));
    }

    [Fact]
    public void Remove_AbsentItem_ReturnsFalseAndKeepsOthers()
    {
        CountingBloomFilter filter = new(1000, 0.001);
        filter.Add("kept");
        Assert.False(filter.Remove("never-added"));
        Assert.True(filter.Contains("kept"));
    }

    [Fact]
    public void Contains_AddedThenRemovedItems_NoFalseNegativesForTheRest()
    {
        Gen.String.Array[2, 200].Sample(items =>
        {
            string[] distinct = [.. items.Distinct()];
            CountingBloomFilter filter = new(distinct.Length, 0.01);
            foreach (string item in distinct)
            {
                filter.Add(item);
            }

            int half = distinct.Length / 2;
            foreach (string item in distinct[..half])
            {
                _ = filter.Remove(item);
            }

            return distinct[half..].All(i => filter.Contains(i));
        }, iter: 200);
    }
}
