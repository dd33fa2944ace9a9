using Blueprint.Core.Hashing;

namespace Blueprint.Core.Tests.Hashing;

public sealed class JumpHashTests
{
    // Reference vectors shared by the Go ports of Lamping & Veach (e.g. dgryski/go-jump), which match the paper's C++.
    [Theory]
    [InlineData(1UL, 1, 0)]
    [InlineData(42UL, 57, 43)]
    [InlineData(0xDEAD10CCUL, 1, 0)]
    [InlineData(0xDEAD10CCUL, 666, 361)]
    [InlineData(256UL, 1024, 520)]
    public void Bucket_ReferenceVectors_MatchPublishedValues(ulong key, int buckets, int expected)
    {
        Assert.Equal(expected, JumpHash.Bucket(key, buckets));
    }

    [Fact]
    public void Bucket_GrowByOne_MovesKeysOnlyToTheNewBucket()
    {
        Gen.Select(Gen.ULong, Gen.Int[1, 500]).Sample(t =>
        {
            (ulong key, int n) = t;
            int before = JumpHash.Bucket(key, n);
            int after = JumpHash.Bucket(key, n + 1);
            return after == before || after == n;
        }, iter: 20_000);
    }

    [Fact]
    public void Bucket_AnyKey_StaysInRange()
    {
        Gen.Select(Gen.ULong, Gen.Int[1, 10_000]).Sample(t => JumpHash.Bucket(t.Item1, t.Item2) is var b && b >= 0 && b < t.Item2, iter: 5_000);
    }

    [Fact]
    public void Bucket_ZeroBuckets_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => JumpHash.Bucket(1, 0));
    }

    [Fact]
    public void Bucket_GrowTenToEleven_MovesAboutOneEleventh()
    {
        int moved = 0;
        const int Keys = 50_000;
        for (int i = 0; i < Keys; i++)
        {
            ulong key = StableHash.Hash64((ulong)i);
            moved += JumpHash.Bucket(key, 10) != JumpHash.Bucket(key, 11) ? 1 : 0;
        }

        Assert.InRange(moved / (double)Keys, 1 / 11.0 * 0.9, 1 / 11.0 * 1.1);
    }
}
