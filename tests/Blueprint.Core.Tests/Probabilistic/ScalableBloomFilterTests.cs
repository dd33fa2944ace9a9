using Blueprint.Core.Probabilistic;

namespace Blueprint.Core.Tests.Probabilistic;

public sealed class ScalableBloomFilterTests
{
    [Fact]
    public void Add_FiftyTimesInitialCapacity_GrowsAndKeepsFalsePositiveBound()
    {
        const double Bound = 0.01;
        ScalableBloomFilter filter = new(initialCapacity: 1000, falsePositiveRate: Bound, growthFactor: 2, tighteningRatio: 0.85);
        for (int i = 0; i < 50_000; i++)
        {
            _ = filter.Add($"member-{i}");
        }

        Assert.True(filter.StageCount >= 5, $"only {filter.StageCount} stages");
        Assert.True(filter.CompoundFalsePositiveBound <= Bound, $"compound bound {filter.CompoundFalsePositiveBound}");
        Assert.All(Enumerable.Range(0, 50_000), i => Assert.True(filter.Contains($"member-{i}")));

        int falsePositives = 0;
        const int Probes = 100_000;
        for (int i = 0; i < Probes; i++)
        {
            falsePositives += filter.Contains($"stranger-{i}") ? 1 : 0;
        }

        Assert.InRange(falsePositives / (double)Probes, 0, Bound);
    }

    [Fact]
    public void Add_DuplicateItem_IsNotCountedTwice()
    {
        ScalableBloomFilter filter = new(10, 0.01);
        Assert.True(filter.Add("a"));
        Assert.False(filter.Add("a"));
        Assert.Equal(1, filter.Count);
    }

    [Fact]
    public void Constructor_TighteningRatioOfOne_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ScalableBloomFilter(10, 0.01, 2, 1.0));
    }
}
