namespace Blueprint.Core.Hashing;

/// <summary>
/// A consistent-hash ring: Karger et al., "Consistent Hashing and Random Trees" (1997), with virtual nodes
/// and weights as in Dynamo (DeCandia et al. 2007). Each node owns <c>Weight × VirtualNodesPerWeight</c>
/// points; a key belongs to the first point clockwise from its hash.
/// </summary>
/// <remarks>
/// Lookups binary-search a sorted <see cref="ulong"/> array and do not allocate. Changes rebuild an immutable
/// snapshot, so lookups may run concurrently with a single writer; concurrent writers must synchronize.
/// </remarks>
/// <typeparam name="TNode">The node type.</typeparam>
public sealed partial class HashRing<TNode>
    where TNode : notnull
{
    /// <summary>
    /// The most points one node may place on the ring (<c>Weight × VirtualNodesPerWeight</c>); it bounds the memory
    /// and rebuild time of a single <see cref="Add"/> and keeps the point count of a ring far from overflowing.
    /// </summary>
    public const int VirtualNodesMax = 1_000_000;

    private readonly Func<TNode, string> _nodeKey;
    private volatile RingSnapshot _snapshot;

    /// <summary>Creates an empty ring.</summary>
    /// <param name="virtualNodesPerWeight">Points per unit of weight; more points smooth the load (relative spread ≈ 1/√v).</param>
    /// <param name="nodeKey">Names a node stably for hashing; defaults to <see cref="object.ToString"/>.</param>
    public HashRing(int virtualNodesPerWeight = 100, Func<TNode, string>? nodeKey = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(virtualNodesPerWeight, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(virtualNodesPerWeight, VirtualNodesMax);
        VirtualNodesPerWeight = virtualNodesPerWeight;
        _nodeKey = nodeKey ?? DefaultNodeKey;
        _snapshot = RingSnapshot.Empty;
    }

    /// <summary>Creates a ring holding <paramref name="nodes"/>, each with weight 1.</summary>
    /// <param name="nodes">The initial nodes.</param>
    /// <param name="virtualNodesPerWeight">Points per unit of weight.</param>
    /// <param name="nodeKey">Names a node stably for hashing; defaults to <see cref="object.ToString"/>.</param>
    public HashRing(IEnumerable<TNode> nodes, int virtualNodesPerWeight = 100, Func<TNode, string>? nodeKey = null)
        : this(virtualNodesPerWeight, nodeKey)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        List<TNode> members = [];
        List<string> names = [];
        HashSet<string> seenNames = new(StringComparer.Ordinal);
        HashSet<TNode> seenNodes = [];
        foreach (TNode node in nodes)
        {
            ArgumentNullException.ThrowIfNull(node, nameof(nodes));
            string name = _nodeKey(node);
            if (!seenNames.Add(name) || !seenNodes.Add(node))
            {
                throw new ArgumentException($"Node '{name}' appears more than once; nodes need distinct names because a node's points depend only on its name.", nameof(nodes));
            }

            members.Add(node);
            names.Add(name);
        }

        _snapshot = Build([.. members], [.. names], [.. members.Select(_ => 1)]);
    }

    /// <summary>Gets the number of points each unit of weight places on the ring.</summary>
    public int VirtualNodesPerWeight { get; }

    /// <summary>Gets the number of nodes.</summary>
    public int NodeCount => _snapshot.Nodes.Length;

    /// <summary>Gets the total number of points (virtual nodes) on the ring.</summary>
    public int PointCount => _snapshot.Points.Length;

    /// <summary>Gets the nodes in insertion order, as a read-only view of the current snapshot.</summary>
    public IReadOnlyList<TNode> Nodes => _snapshot.NodesView;

    /// <summary>Adds a node and reports the arcs of the hash space that moved to it.</summary>
    /// <param name="node">The node to add; neither it nor another node with its name may already be on the ring.</param>
    /// <param name="weight">The node's weight; at least 1, and <c>weight × VirtualNodesPerWeight</c> at most <see cref="VirtualNodesMax"/>.</param>
    /// <returns>The arcs that changed owner; every one has <paramref name="node"/> as its new owner.</returns>
    public IReadOnlyList<MovedRange<TNode>> Add(TNode node, int weight = 1)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentOutOfRangeException.ThrowIfLessThan(weight, 1);
        if (weight > VirtualNodesMax / VirtualNodesPerWeight)
        {
            throw new ArgumentOutOfRangeException(nameof(weight), weight, $"A weight of {weight} × {VirtualNodesPerWeight} points per weight exceeds VirtualNodesMax ({VirtualNodesMax}) points for one node.");
        }

        RingSnapshot before = _snapshot;
        string name = _nodeKey(node);
        if (IndexOf(before, node) >= 0 || Array.IndexOf(before.Names, name) >= 0)
        {
            throw new ArgumentException($"Node '{name}' is already on the ring; nodes need distinct names because a node's points depend only on its name.", nameof(node));
        }

        // The new snapshot is built from copies and published only once complete, so a failed build leaves the ring as it was.
        RingSnapshot after = Build([.. before.Nodes, node], [.. before.Names, name], [.. before.Weights, weight]);
        _snapshot = after;
        return Diff(before, after);
    }

    /// <summary>Removes a node and reports the arcs of the hash space that moved away from it.</summary>
    /// <param name="node">The node to remove.</param>
    /// <returns>The arcs that changed owner (all previously owned by <paramref name="node"/>); empty if it was absent.</returns>
    public IReadOnlyList<MovedRange<TNode>> Remove(TNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        RingSnapshot before = _snapshot;
        int index = IndexOf(before, node);
        if (index < 0)
        {
            return [];
        }

        RingSnapshot after = Build(
            [.. before.Nodes.Where((_, i) => i != index)],
            [.. before.Names.Where((_, i) => i != index)],
            [.. before.Weights.Where((_, i) => i != index)]);
        _snapshot = after;
        return Diff(before, after);
    }

    /// <summary>Returns whether <paramref name="node"/> is on the ring.</summary>
    /// <param name="node">The node.</param>
    /// <returns><see langword="true"/> when present.</returns>
    public bool Contains(TNode node) => IndexOf(_snapshot, node) >= 0;

    /// <summary>Returns the node owning <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The owner.</returns>
    /// <exception cref="InvalidOperationException">The ring is empty.</exception>
    public TNode GetNode(ReadOnlySpan<char> key) => GetNodeForHash(StableHash.Hash64(key));

    /// <summary>Returns the node owning the key hash <paramref name="hash"/>.</summary>
    /// <param name="hash">The key's <see cref="StableHash"/>.</param>
    /// <returns>The owner.</returns>
    /// <exception cref="InvalidOperationException">The ring is empty.</exception>
    public TNode GetNodeForHash(ulong hash)
    {
        RingSnapshot snapshot = _snapshot;
        if (snapshot.Points.Length == 0)
        {
            throw new InvalidOperationException("The hash ring has no nodes.");
        }

        return snapshot.Nodes[snapshot.Owners[snapshot.Successor(hash)]];
    }

    /// <summary>
    /// Writes the owner of <paramref name="key"/> and its distinct clockwise successors into
    /// <paramref name="destination"/>: the replica placement for the key. Does not allocate.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="destination">Receives up to <c>min(destination.Length, NodeCount)</c> distinct nodes.</param>
    /// <returns>The number of nodes written.</returns>
    public int GetNodes(ReadOnlySpan<char> key, Span<TNode> destination) => GetNodesForHash(StableHash.Hash64(key), destination);

    /// <summary>Returns the owner of <paramref name="key"/> and its distinct successors, <paramref name="count"/> at most.</summary>
    /// <param name="key">The key.</param>
    /// <param name="count">The number of replicas wanted.</param>
    /// <returns>Up to <paramref name="count"/> distinct nodes, owner first.</returns>
    public TNode[] GetNodes(string key, int count)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        TNode[] result = new TNode[Math.Min(count, NodeCount)];
        int written = GetNodes(key.AsSpan(), result);
        return written == result.Length ? result : result[..written];
    }

    /// <summary>Writes the owner of the key hash and its distinct clockwise successors into <paramref name="destination"/>.</summary>
    /// <param name="hash">The key's <see cref="StableHash"/>.</param>
    /// <param name="destination">Receives up to <c>min(destination.Length, NodeCount)</c> distinct nodes.</param>
    /// <returns>The number of nodes written.</returns>
    public int GetNodesForHash(ulong hash, Span<TNode> destination)
    {
        RingSnapshot snapshot = _snapshot;
        int wanted = Math.Min(destination.Length, snapshot.Nodes.Length);
        if (wanted == 0)
        {
            return 0;
        }

        // Owner indexes chosen so far; replica counts are small, so a linear scan beats a set.
        const int StackOwnersMax = 32;
        Span<int> chosen = wanted <= StackOwnersMax ? stackalloc int[StackOwnersMax] : new int[wanted];
        int written = 0;
        int points = snapshot.Points.Length;
        int start = snapshot.Successor(hash);
        for (int step = 0; step < points && written < wanted; step++)
        {
            int owner = snapshot.Owners[(start + step) % points];
            if (!chosen[..written].Contains(owner))
            {
                chosen[written] = owner;
                destination[written] = snapshot.Nodes[owner];
                written++;
            }
        }

        return written;
    }

    /// <summary>Returns the first node clockwise from <paramref name="hash"/> that <paramref name="accept"/> accepts.</summary>
    internal TNode FirstClockwise(ulong hash, Func<TNode, bool> accept)
    {
        RingSnapshot snapshot = _snapshot;
        int points = snapshot.Points.Length;
        int start = points == 0 ? 0 : snapshot.Successor(hash);
        for (int step = 0; step < points; step++)
        {
            TNode node = snapshot.Nodes[snapshot.Owners[(start + step) % points]];
            if (accept(node))
            {
                return node;
            }
        }

        // Callers guarantee some node is acceptable (the bounded-load cap is at least the mean load).
        throw new InvalidOperationException("No node on the ring accepts the key.");
    }

    /// <summary>Returns each node's share of the hash space, in the order of <see cref="Nodes"/>; the shares sum to 1.</summary>
    /// <returns>The fraction of the 2^64 hash space each node owns.</returns>
    public double[] GetOwnershipFractions()
    {
        RingSnapshot snapshot = _snapshot;
        double[] shares = new double[snapshot.Nodes.Length];
        int points = snapshot.Points.Length;
        for (int i = 0; i < points; i++)
        {
            ulong previous = snapshot.Points[(i + points - 1) % points];
            ulong length = unchecked(snapshot.Points[i] - previous);
            shares[snapshot.Owners[i]] += points == 1 ? 1.0 : length / 18446744073709551616.0;
        }

        return shares;
    }

    private static string DefaultNodeKey(TNode node) =>
        node.ToString() ?? throw new ArgumentException("A node's ToString returned null; pass a nodeKey selector.", nameof(node));

    // Searches an immutable snapshot, never shared mutable state, so readers may run beside the writer.
    private static int IndexOf(RingSnapshot snapshot, TNode node) => Array.IndexOf(snapshot.Nodes, node);
}
