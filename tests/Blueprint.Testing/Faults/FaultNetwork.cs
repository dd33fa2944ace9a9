using System.Net;

namespace Blueprint.Testing.Faults;

/// <summary>How a partition cuts the links that cross it.</summary>
public enum PartitionMode
{
    /// <summary>Bytes across the cut are dropped and connections stay up: peers see timeouts (iptables DROP).</summary>
    Silent,

    /// <summary>Connections across the cut are reset and new ones refused: peers see errors at once (iptables REJECT, a host down).</summary>
    Reject,
}

/// <summary>
/// The network of a test cluster: one <see cref="FaultProxy"/> per directed link (from → to) between
/// named nodes, and cluster-level faults — partitions, isolation, one-way blocks, bridges, delays —
/// expressed as faults on those links.
/// </summary>
/// <remarks>
/// <para>
/// A proxy sees only who dials whom, so the network works only if every node dials each peer
/// through <see cref="AddressFor"/>(itself, peer) and never the peer's real port. Connections a node
/// accepts are the other node's outgoing links.
/// </para>
/// <para>
/// Faults name the direction bytes travel, not who dialed: "n1 cannot send to n2" drops the requests
/// on link n1 → n2 and the replies n1 sends on link n2 → n1, so it holds whichever node opened the
/// connection. Each link changes atomically; an operation over many links changes them one after
/// another, and operations are serialised with each other.
/// </para>
/// </remarks>
public sealed class FaultNetwork : IAsyncDisposable
{
    /// <summary>The most nodes a network takes (n × (n − 1) proxies).</summary>
    public const int NodesMax = 16;

    private readonly Dictionary<(string From, string To), FaultProxy> _links;
    private readonly Lock _gate = new();

    private FaultNetwork(IReadOnlyList<string> nodes, Dictionary<(string From, string To), FaultProxy> links)
    {
        Nodes = nodes;
        _links = links;
    }

    /// <summary>The node names, in the order given.</summary>
    public IReadOnlyList<string> Nodes { get; }

    /// <summary>Starts a proxy for every directed pair of <paramref name="nodePorts"/> (name → the node's real loopback port).</summary>
    /// <param name="nodePorts">Two to <see cref="NodesMax"/> nodes.</param>
    /// <param name="options">Options for every proxy; <see cref="FaultProxyOptions.ListenPort"/> must be 0.</param>
    public static FaultNetwork Start(IReadOnlyDictionary<string, int> nodePorts, FaultProxyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(nodePorts);
        if (nodePorts.Count is < 2 or > NodesMax)
        {
            throw new ArgumentException($"a network has 2–{NodesMax} nodes, not {nodePorts.Count}", nameof(nodePorts));
        }

        if (options is { ListenPort: not 0 })
        {
            throw new ArgumentException("every link listens on its own port: ListenPort must be 0", nameof(options));
        }

        var links = new Dictionary<(string From, string To), FaultProxy>();
        try
        {
            foreach (var from in nodePorts.Keys)
            {
                foreach (var (to, port) in nodePorts)
                {
                    if (from != to)
                    {
                        links[(from, to)] = FaultProxy.Start(new IPEndPoint(IPAddress.Loopback, port), OnOwnPort(options));
                    }
                }
            }
        }
        catch
        {
            foreach (var link in links.Values)
            {
                link.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            throw;
        }

        return new FaultNetwork([.. nodePorts.Keys], links);
    }

    /// <summary>
    /// The options with a listen port from <see cref="FreePorts"/>, never one the OS picks: an ephemeral port could be
    /// one a test was handed for a node that has not bound it yet, and that node would then fail to start.
    /// </summary>
    private static FaultProxyOptions OnOwnPort(FaultProxyOptions? options)
    {
        options ??= new FaultProxyOptions();
        return new FaultProxyOptions
        {
            ListenPort = FreePorts.Next(),
            ConnectionsMax = options.ConnectionsMax,
            UpstreamConnectTimeout = options.UpstreamConnectTimeout,
            JitterRandom = options.JitterRandom,
            TimeProvider = options.TimeProvider,
        };
    }

    /// <summary>The address <paramref name="from"/> must dial to reach <paramref name="to"/>.</summary>
    public IPEndPoint AddressFor(string from, string to) => Link(from, to).Endpoint;

    /// <summary>The proxy of the link <paramref name="from"/> → <paramref name="to"/>, for its counters or a fault of its own.</summary>
    /// <exception cref="ArgumentException">An unknown node, or a node paired with itself.</exception>
    public FaultProxy Link(string from, string to) =>
        _links.TryGetValue((from, to), out var link)
            ? link
            : throw new ArgumentException($"no link {from} → {to}; nodes are {string.Join(", ", Nodes)}");

    /// <summary>A one-way silent block: bytes from <paramref name="from"/> to <paramref name="to"/> are dropped; the other way still flows.</summary>
    public void Block(string from, string to) => ChangeFlow(from, to, flow => flow with { Blackholed = true });

    /// <summary>Lifts a <see cref="Block"/> of <paramref name="from"/> → <paramref name="to"/>.</summary>
    public void Unblock(string from, string to) => ChangeFlow(from, to, flow => flow with { Blackholed = false });

    /// <summary>Adds one-way latency (plus up to <paramref name="jitter"/>) to bytes from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public void Delay(string from, string to, TimeSpan latency, TimeSpan jitter = default) =>
        ChangeFlow(from, to, flow => flow with { Latency = latency, Jitter = jitter });

    /// <summary>
    /// Cuts every node of <paramref name="side"/> from every node of <paramref name="otherSide"/>, both
    /// ways; links within a side are untouched, and a node in neither keeps every link (a bridge).
    /// </summary>
    public void Partition(IReadOnlyCollection<string> side, IReadOnlyCollection<string> otherSide, PartitionMode mode = PartitionMode.Silent)
    {
        ArgumentNullException.ThrowIfNull(side);
        ArgumentNullException.ThrowIfNull(otherSide);
        if (side.Intersect(otherSide, StringComparer.Ordinal).FirstOrDefault() is { } both)
        {
            throw new ArgumentException($"node {both} is on both sides of the partition");
        }

        lock (_gate)
        {
            foreach (var a in side)
            {
                foreach (var b in otherSide)
                {
                    Cut(a, b, mode);
                }
            }
        }
    }

    /// <summary>Cuts <paramref name="node"/> from every other node, both ways.</summary>
    public void Isolate(string node, PartitionMode mode = PartitionMode.Silent) =>
        Partition([node], [.. Nodes.Where(other => other != node)], mode);

    /// <summary>
    /// Two halves that cannot reach each other and one node that reaches both (Jepsen's bridge): the
    /// bridge may relay between halves, and a leader elected through it must not be split.
    /// </summary>
    public void Bridge(IReadOnlyCollection<string> left, string bridge, IReadOnlyCollection<string> right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        if (left.Contains(bridge) || right.Contains(bridge))
        {
            throw new ArgumentException($"the bridge {bridge} belongs to neither half");
        }

        Partition(left, right);
    }

    /// <summary>Removes every fault from every link.</summary>
    public void Heal()
    {
        lock (_gate)
        {
            foreach (var link in _links.Values)
            {
                link.Heal();
            }
        }
    }

    /// <summary>Stops every proxy.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var link in _links.Values)
        {
            await link.DisposeAsync();
        }
    }

    private void Cut(string a, string b, PartitionMode mode)
    {
        if (mode == PartitionMode.Reject)
        {
            Link(a, b).Partition();
            Link(b, a).Partition();
            return;
        }

        Block(a, b);
        Block(b, a);
    }

    /// <summary>Changes the flow of bytes from <paramref name="from"/> to <paramref name="to"/> on both links that carry it.</summary>
    private void ChangeFlow(string from, string to, Func<DirectionFaults, DirectionFaults> change)
    {
        var forward = Link(from, to);
        var backward = Link(to, from);
        lock (_gate)
        {
            forward.Update(faults => faults.With(FaultDirections.Upstream, change));
            backward.Update(faults => faults.With(FaultDirections.Downstream, change));
        }
    }
}
