using Blueprint.Core.Hashing;

namespace Blueprint.Core.Tests.Hashing;

public sealed class RendezvousHashTests
{
    private static string[] Names(int count) => [.. Enumerable.Range(0, count).Select(i => $"node-{i}")];

    [Fact]
    public void GetNode_RemoveANode_OnlyItsKeysMove()
    {
        Gen.Select(Gen.Int[2, 20], Gen.String.Array[20, 100], Gen.Int[0, 19]).Sample(t =>
        {
            (int n, string[] keys, int v) = t;
            string victim = $"node-{v % n}";
            RendezvousHash<string> full = new(Names(n));
            RendezvousHash<string> reduced = new(Names(n).Where(x => x != victim));
            return keys.All(k => full.GetNode(k) == victim || full.GetNode(k) == reduced.GetNode(k));
        }, iter: 100);
    }

    [Fact]
    public void GetNodes_AnyKey_DistinctBestFirstAndOrderIndependent()
    {
        Gen.Select(Gen.Int[1, 20], Gen.String, Gen.Int[1, 25]).Sample(t =>
        {
            (int n, string key, int count) = t;
            RendezvousHash<string> hash = new(Names(n));
            RendezvousHash<string> reversed = new(Names(n).Reverse());
            string[] destination = new string[count];
            int written = hash.GetNodes(key, destination);
            string[] other = new string[count];
            _ = reversed.GetNodes(key, other);
            Assert.Equal(Math.Min(n, count), written);
            Assert.Equal(written, destination.Take(written).Distinct().Count());
            Assert.Equal(hash.GetNode(key), destination[0]);
            Assert.Equal(destination, other);
        }, iter: 200);
    }

    [Fact]
    public void Constructor_DuplicateNodes_Throws()
    {
        Assert.Throws<ArgumentException>(() => new RendezvousHash<string>(["a", "a"]));
    }

    [Fact]
    public void Constructor_DistinctNodesWithTheSameName_ThrowsNamingTheName()
    {
        // 4 and 14 differ but score every key identically under one name, so the winner would depend on order.
        ArgumentException error = Assert.Throws<ArgumentException>(() => new RendezvousHash<int>([4, 14], n => $"shard-{n % 10}"));
        Assert.Contains("'shard-4'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nodes_CastBackToAList_CannotRewriteTheNodes()
    {
        RendezvousHash<string> hash = new(Names(3));
        IList<string> list = Assert.IsAssignableFrom<IList<string>>(hash.Nodes);
        Assert.Throws<NotSupportedException>(() => list[0] = "intruder");
        Assert.Equal("node-0", hash.Nodes[0]);
    }
}
