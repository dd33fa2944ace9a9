using Blueprint.Core.Probabilistic;

namespace Blueprint.Core.Tests.Probabilistic;

public sealed class BloomMathTests
{
    [Fact]
    public void OptimalBitCount_ThousandItemsAtOnePercent_Is9586()
    {
        // m = −n ln p / (ln 2)² = 1000 · 4.60517 / 0.480453 = 9585.06 → 9586.
        Assert.Equal(9586, BloomMath.OptimalBitCount(1000, 0.01));
    }

    [Fact]
    public void OptimalHashCount_TenBitsPerItem_IsSeven()
    {
        Assert.Equal(7, BloomMath.OptimalHashCount(10_000, 1000));
    }

    [Fact]
    public void OptimalBitsPerItem_OnePercent_IsAbout9Point59()
    {
        Assert.Equal(9.585, BloomMath.OptimalBitsPerItem(0.01), 3);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void OptimalBitCount_RateOutsideUnitInterval_Throws(double rate)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BloomMath.OptimalBitCount(10, rate));
    }
}
