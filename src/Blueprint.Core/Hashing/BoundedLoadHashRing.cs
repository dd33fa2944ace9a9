namespace Blueprint.Core.Hashing;

/// <summary>
/// Consistent hashing with bounded loads: Mirrokni, Thorup &amp; Zadimoghaddam, "Consistent Hashing with Bounded
/// Loads" (SODA 2018). A key goes to the first node clockwise from its hash whose load is below the cap
/// <c>⌈(1 + ε) · m / n⌉</c>, where <c>m</c> counts the keys placed including this one; so no node ever exceeds
/// the cap, at the price of moving somewhat more keys than a plain ring when membership changes.
/// </summary>
/// <remarks>Stateful (it tracks per-node load) and single-threaded: callers synchronize.</remarks>
/// <typeparam name="TNode">The node type.</typeparam>
public sealed class BoundedLoadHashRing<TNode>
    where TNode : notnull
{
    private readonly HashRing<TNode> _ring;
    private readonly Dictionary<TNode, int> _loads = [];
    private readonly Func<TNode, bool> _isBelowCapacity;
    private long _capacity;

    /// <summary>Creates a bounded-load ring over <paramref name="nodes"/>.</summary>
    /// <param name="nodes">The nodes; at least one.</param>
    /// <param name="epsilon">The allowed overload ε &gt; 0: the cap is <c>⌈(1 + ε) · mean⌉</c>.</param>
    /// <param name="virtualNodesPerWeight">Points per node on the underlying ring.</param>
    /// <param name="nodeKey">Names a node stably for hashing; defaults to <see cref="object.ToString"/>.</param>
    public BoundedLoadHashRing(IEnumerable<TNode> nodes, double epsilon, int virtualNodesPerWeight = 100, Func<TNode, string>? nodeKey = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epsilon);
        _ring = new HashRing<TNode>(nodes, virtualNodesPerWeight, nodeKey);
        if (_ring.NodeCount == 0)
        {
            throw new ArgumentException("Bounded-load hashing needs at least one node.", nameof(nodes));
        }

        Epsilon = epsilon;
        _isBelowCapacity = node => _loads[node] < _capacity;
        foreach (TNode node in _ring.Nodes)
        {
            _loads[node] = 0;
        }
    }

    /// <summary>Gets ε, the allowed overload over the mean.</summary>
    public double Epsilon { get; }

    /// <summary>Gets the number of keys placed.</summary>
    public long KeyCount { get; private set; }

    /// <summary>Gets the cap a node may reach after one more key is placed: <c>⌈(1 + ε) · (m + 1) / n⌉</c>.</summary>
    public long NextCapacityMax => CapacityFor(KeyCount + 1);

    /// <summary>Returns the current load of <paramref name="node"/>.</summary>
    /// <param name="node">A node of the ring.</param>
    /// <returns>The number of keys it holds.</returns>
    public int LoadOf(TNode node) => _loads[node];

    /// <summary>Places a key: the first node clockwise from its hash with load below the cap.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The node now holding the key.</returns>
    public TNode Assign(ReadOnlySpan<char> key) => AssignHash(StableHash.Hash64(key));

    /// <summary>Places a key given its hash.</summary>
    /// <param name="hash">The key's <see cref="StableHash"/>.</param>
    /// <returns>The node now holding the key.</returns>
    public TNode AssignHash(ulong hash)
    {
        _capacity = CapacityFor(KeyCount + 1);
        TNode chosen = _ring.FirstClockwise(hash, _isBelowCapacity);
        _loads[chosen]++;
        KeyCount++;
        return chosen;
    }

    /// <summary>Removes a key previously placed on <paramref name="node"/>.</summary>
    /// <param name="node">The node that holds the key.</param>
    public void Release(TNode node)
    {
        if (_loads[node] == 0)
        {
            throw new InvalidOperationException($"Node '{node}' holds no keys.");
        }

        _loads[node]--;
        KeyCount--;
    }

    private long CapacityFor(long keys) => (long)Math.Ceiling((1 + Epsilon) * keys / _ring.NodeCount);
}
