using Blueprint.Core.Hashing;

namespace Blueprint.Core.Tests.Hashing;

public sealed class BoundedLoadHashRingTests
{
    private static string[] Names(int count) => [.. Enumerable.Range(0, count).Select(i => $"node-{i}")];

    /// <summary>The cap ⌈(1 + e/16) · m / n⌉ in integers: ⌈(16 + e) · m / (16 · n)⌉, independent of the ring's double arithmetic.</summary>
    private static long IntegerCap(int sixteenths, long keys, int nodes) => (((16 + sixteenths) * keys) + (16 * nodes) - 1) / (16 * nodes);

    [Fact]
    public void AssignHash_AnySequence_NeverExceedsTheCap()
    {
        // ε = e/16 is exact in binary, so the integer cap is the true cap for the ε the ring is given.
        Gen.Select(Gen.Int[1, 12], Gen.Int[1, 16], Gen.ULong.Array[1, 400]).Sample(t =>
        {
            (int n, int sixteenths, ulong[] hashes) = t;
            BoundedLoadHashRing<string> ring = new(Names(n), sixteenths / 16.0, virtualNodesPerWeight: 10);
            for (int m = 1; m <= hashes.Length; m++)
            {
                _ = ring.AssignHash(hashes[m - 1]);
                long cap = IntegerCap(sixteenths, m, n);
                Assert.All(Names(n), node => Assert.True(ring.LoadOf(node) <= cap, $"{node} holds {ring.LoadOf(node)} > cap {cap}"));
                Assert.Equal(IntegerCap(sixteenths, m + 1, n), ring.NextCapacityMax);
            }

            Assert.Equal(hashes.Length, Names(n).Sum(ring.LoadOf));
        }, iter: 60);
    }

    [Fact]
    public void AssignHash_AllKeysOnOnePoint_SpillsToSuccessors()
    {
        BoundedLoadHashRing<string> ring = new(Names(4), epsilon: 0.5);
        for (int i = 0; i < 8; i++)
        {
            _ = ring.AssignHash(12345);
        }

        // Cap after 8 keys on 4 nodes at ε=0.5 is ⌈1.5·2⌉ = 3: nobody may hold more.
        Assert.All(Names(4), node => Assert.InRange(ring.LoadOf(node), 0, 3));
        Assert.Equal(8, ring.KeyCount);
    }

    [Fact]
    public void Release_AssignedKey_LowersLoad()
    {
        BoundedLoadHashRing<string> ring = new(Names(3), epsilon: 0.25);
        string node = ring.Assign("k");
        ring.Release(node);
        Assert.Equal(0, ring.LoadOf(node));
        Assert.Throws<InvalidOperationException>(() => ring.Release(node));
    }
}
