using Blueprint.Core.Hashing;
using Microsoft.Extensions.Options;

namespace Blueprint.Storage.Cluster;

/// <summary>
/// The storage nodes and where each object lives: a consistent-hash ring (virtual nodes) over the node ids; an object's
/// preference list is every node in ring order from its key's hash, its first <see cref="Replicas"/> are its home
/// replicas and the rest stand in (sloppy quorum) when a home replica is down. One node with no peers is a ring of one.
/// </summary>
internal sealed class StorageTopology
{
    private readonly HashRing<string> _ring;
    private readonly Dictionary<string, Uri> _addresses;

    public StorageTopology(IOptions<StorageOptions> options)
    {
        var value = options.Value;
        Self = value.NodeId;
        _addresses = new Dictionary<string, Uri>(StringComparer.Ordinal) { [Self] = new Uri("http://self.invalid") };
        foreach (var (id, address) in StorageOptions.ParsePeers(value.Peers))
        {
            _addresses[id] = address;
        }

        Nodes = [.. _addresses.Keys.Order(StringComparer.Ordinal)];
        _ring = new HashRing<string>(Nodes, virtualNodesPerWeight: 128);
        Replicas = Math.Min(value.Replicas, Nodes.Count);
        ReadQuorum = Math.Min(value.ReadQuorum, Replicas);
        WriteQuorum = Math.Min(value.WriteQuorum, Replicas);
        ClusterSecret = value.ClusterSecret ?? "";
    }

    /// <summary>This node's id.</summary>
    public string Self { get; }

    /// <summary>Every node's id (this one included), sorted.</summary>
    public IReadOnlyList<string> Nodes { get; }

    /// <summary>The other nodes' ids.</summary>
    public IEnumerable<string> Peers => Nodes.Where(node => node != Self);

    /// <summary>Whether there are other nodes.</summary>
    public bool IsClustered => Nodes.Count > 1;

    /// <summary>N: the copies of each object (at most the node count).</summary>
    public int Replicas { get; }

    /// <summary>R: the replicas that must answer a read (default).</summary>
    public int ReadQuorum { get; }

    /// <summary>W: the replicas that must acknowledge a write (default).</summary>
    public int WriteQuorum { get; }

    /// <summary>What peers present to each other's internal API.</summary>
    public string ClusterSecret { get; }

    /// <summary>The S3 address of a peer.</summary>
    public Uri AddressOf(string node) => _addresses[node];

    /// <summary>Every node in ring order from the object's position: the first <see cref="Replicas"/> are its home.</summary>
    public string[] PreferenceList(string bucket, string key) => _ring.GetNodes(RingKey(bucket, key), Nodes.Count);

    /// <summary>The object's home replicas.</summary>
    public string[] Home(string bucket, string key) => _ring.GetNodes(RingKey(bucket, key), Replicas);

    /// <summary>Whether <paramref name="node"/> is a home replica of the object.</summary>
    public bool IsHome(string node, string bucket, string key) => Array.IndexOf(Home(bucket, key), node) >= 0;

    private static string RingKey(string bucket, string key) => string.Concat(bucket, "/", key);
}
