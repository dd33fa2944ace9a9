using Blueprint.Core.Hashing;

namespace Blueprint.Core.Tests.Hashing;

public sealed class HashRingTests
{
    private static readonly Gen<int> NodeCounts = Gen.Int[2, 12];
    private static readonly Gen<string[]> KeySets = Gen.String[Gen.Char.AlphaNumeric, 1, 12].Array[50, 200];

    private static string[] Names(int count, int offset = 0) => [.. Enumerable.Range(offset, count).Select(i => $"node-{i}")];

    [Fact]
    public void GetNode_TwoInstancesBuiltInDifferentOrder_AgreeOnEveryKey()
    {
        Gen.Select(NodeCounts, KeySets).Sample(t =>
        {
            (int n, string[] keys) = t;
            HashRing<string> a = new(Names(n), virtualNodesPerWeight: 20);
            HashRing<string> b = new(Names(n).Reverse(), virtualNodesPerWeight: 20);
            return keys.All(k => a.GetNode(k) == b.GetNode(k));
        }, iter: 50);
    }

    [Theory]
    [InlineData("user:1", "node-2")]
    [InlineData("user:2", "node-1")]
    [InlineData("user:3", "node-0")]
    [InlineData("order:77", "node-3")]
    public void GetNode_FixedRing_MapsGoldenKeysToFixedNodes(string key, string expected)
    {
        // A ring of five nodes must place these keys identically in every process and release.
        HashRing<string> ring = new(Names(5));
        Assert.Equal(expected, ring.GetNode(key));
    }

    [Fact]
    public void Add_NewNode_OnlyKeysTakenByTheNewNodeMove()
    {
        Gen.Select(NodeCounts, KeySets).Sample(t =>
        {
            (int n, string[] keys) = t;
            HashRing<string> ring = new(Names(n), virtualNodesPerWeight: 20);
            Dictionary<string, string> before = keys.Distinct().ToDictionary(k => k, k => ring.GetNode(k));
            IReadOnlyList<MovedRange<string>> moved = ring.Add("added");
            foreach ((string key, string owner) in before)
            {
                string now = ring.GetNode(key);
                bool inMovedRange = moved.Any(r => r.Contains(StableHash.Hash64(key)));
                Assert.True(now == owner || now == "added", $"{key} moved from {owner} to {now}");
                Assert.Equal(now != owner, inMovedRange);
            }

            Assert.All(moved, r => Assert.Equal("added", r.To));
        }, iter: 40);
    }

    [Fact]
    public void Remove_Node_OnlyKeysOfTheRemovedNodeMove()
    {
        Gen.Select(NodeCounts, KeySets, Gen.Int[0, 11]).Sample(t =>
        {
            (int n, string[] keys, int victimIndex) = t;
            string victim = $"node-{victimIndex % n}";
            HashRing<string> ring = new(Names(n), virtualNodesPerWeight: 20);
            Dictionary<string, string> before = keys.Distinct().ToDictionary(k => k, k => ring.GetNode(k));
            IReadOnlyList<MovedRange<string>> moved = ring.Remove(victim);
            foreach ((string key, string owner) in before)
            {
                string now = ring.GetNode(key);
                Assert.Equal(owner == victim, now != owner);
                Assert.NotEqual(victim, now);
                Assert.Equal(owner == victim, moved.Any(r => r.Contains(StableHash.Hash64(key))));
            }

            Assert.All(moved, r => Assert.Equal(victim, r.From));
        }, iter: 40);
    }

    [Fact]
    public void Add_MovedRanges_SumToTheNewNodesShare()
    {
        HashRing<string> ring = new(Names(9));
        IReadOnlyList<MovedRange<string>> moved = ring.Add("node-9");
        double share = ring.GetOwnershipFractions()[ring.Nodes.ToList().IndexOf("node-9")];
        Assert.Equal(share, moved.Sum(r => r.Fraction), 9);
    }

    [Fact]
    public void GetNodes_AnyKey_ReturnsDistinctNodesOwnerFirstAndStable()
    {
        Gen.Select(NodeCounts, Gen.String, Gen.Int[1, 15]).Sample(t =>
        {
            (int n, string key, int count) = t;
            HashRing<string> ring = new(Names(n), virtualNodesPerWeight: 10);
            HashRing<string> other = new(Names(n).Reverse(), virtualNodesPerWeight: 10);
            string[] replicas = ring.GetNodes(key, count);
            Assert.Equal(Math.Min(count, n), replicas.Length);
            Assert.Equal(replicas.Length, replicas.Distinct().Count());
            Assert.Equal(ring.GetNode(key), replicas[0]);
            Assert.Equal(replicas, other.GetNodes(key, count));
        }, iter: 200);
    }

    [Fact]
    public void GetNodes_IntoSpan_AllocatesNothing()
    {
        HashRing<string> ring = new(Names(10));
        string[] destination = new string[3];
        _ = ring.GetNodes("warm-up", destination);
        _ = ring.GetNode("warm-up");
        long before = GC.GetAllocatedBytesForCurrentThread();
        int written = 0;
        for (int i = 0; i < 1000; i++)
        {
            written += ring.GetNodes("some-key", destination);
            _ = ring.GetNode("some-key");
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(3000, written);
    }

    [Fact]
    public void GetOwnershipFractions_DoubleWeight_OwnsAboutTwiceTheShare()
    {
        HashRing<string> ring = new(virtualNodesPerWeight: 500);
        _ = ring.Add("light-a");
        _ = ring.Add("light-b");
        _ = ring.Add("heavy", weight: 2);
        double[] shares = ring.GetOwnershipFractions();
        Assert.Equal(1.0, shares.Sum(), 9);
        Assert.InRange(shares[2], 0.45, 0.55);
    }

    [Fact]
    public void GetNode_EmptyRing_Throws()
    {
        HashRing<string> ring = new();
        Assert.Throws<InvalidOperationException>(() => ring.GetNode("k"));
    }

    [Fact]
    public void Add_DuplicateNode_Throws()
    {
        HashRing<string> ring = new(Names(2));
        Assert.Throws<ArgumentException>(() => ring.Add("node-1"));
    }

    [Fact]
    public void Remove_AbsentNode_ReportsNothing()
    {
        HashRing<string> ring = new(Names(2));
        Assert.Empty(ring.Remove("node-7"));
        Assert.Equal(2, ring.NodeCount);
    }

    [Fact]
    public void Add_WeightBeyondVirtualNodesMax_ThrowsOutOfRangeAndLeavesTheRingUsable()
    {
        HashRing<string> ring = new(Names(2));
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => ring.Add("b", int.MaxValue));
        Assert.Contains(nameof(HashRing<>.VirtualNodesMax), error.Message, StringComparison.Ordinal);

        // The failed add must not leave a half-added member behind: "b" is absent and can still be added.
        Assert.False(ring.Contains("b"));
        Assert.Equal(2, ring.NodeCount);
        Assert.Equal(200, ring.PointCount);
        _ = ring.Add("b");
        Assert.Equal(["node-0", "node-1", "b"], ring.Nodes);
        Assert.Equal(300, ring.PointCount);
    }

    [Fact]
    public void Add_OneWeightPastTheLimit_ThrowsOutOfRange()
    {
        // 1000 points per weight: weight 1000 is exactly VirtualNodesMax points, weight 1001 is one weight too many.
        HashRing<string> ring = new(virtualNodesPerWeight: 1000);
        Assert.Equal(1_000_000, HashRing<string>.VirtualNodesMax);
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Add("heavy", 1001));
        Assert.Equal(0, ring.NodeCount);
    }

    [Fact]
    public void Add_DistinctNodeWithTheSameName_ThrowsNamingTheName()
    {
        // 7 and 17 are different nodes but hash under the same name, so they would own identical points.
        HashRing<int> ring = new(virtualNodesPerWeight: 10, nodeKey: n => $"shard-{n % 10}");
        _ = ring.Add(7);
        ArgumentException error = Assert.Throws<ArgumentException>(() => ring.Add(17));
        Assert.Contains("'shard-7'", error.Message, StringComparison.Ordinal);
        Assert.Equal([7], ring.Nodes);
    }

    [Fact]
    public void Constructor_DistinctNodesWithTheSameName_ThrowsNamingTheName()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new HashRing<int>([3, 13], nodeKey: n => $"shard-{n % 10}"));
        Assert.Contains("'shard-3'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nodes_CastBackToAList_CannotRewriteTheRing()
    {
        HashRing<string> ring = new(Names(3));
        IList<string> list = Assert.IsAssignableFrom<IList<string>>(ring.Nodes);
        Assert.Throws<NotSupportedException>(() => list[0] = "intruder");
        Assert.Equal("node-0", ring.Nodes[0]);
    }
}
