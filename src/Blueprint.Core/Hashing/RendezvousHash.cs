using System.Collections.ObjectModel;

namespace Blueprint.Core.Hashing;

/// <summary>
/// Rendezvous or highest-random-weight hashing: Thaler &amp; Ravishankar, "Using Name-Based Mappings to Increase
/// Hit Rates" (1998). Every node scores the key and the highest score wins, so removing a node moves only its
/// own keys and adding one takes an even <c>1/(n+1)</c> from everyone, with no virtual nodes. A lookup costs O(n).
/// </summary>
/// <typeparam name="TNode">The node type.</typeparam>
public sealed class RendezvousHash<TNode>
    where TNode : notnull
{
    private readonly TNode[] _nodes;
    private readonly ReadOnlyCollection<TNode> _nodesView;
    private readonly ulong[] _nodeHashes;

    /// <summary>Creates a rendezvous hash over <paramref name="nodes"/>.</summary>
    /// <param name="nodes">The nodes; at least one, with distinct nodes and distinct names.</param>
    /// <param name="nodeKey">Names a node stably for hashing; defaults to <see cref="object.ToString"/>.</param>
    public RendezvousHash(IEnumerable<TNode> nodes, Func<TNode, string>? nodeKey = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        _nodes = [.. nodes];
        if (_nodes.Length == 0)
        {
            throw new ArgumentException("Rendezvous hashing needs at least one node.", nameof(nodes));
        }

        if (_nodes.Distinct().Count() != _nodes.Length)
        {
            throw new ArgumentException("Nodes must be distinct.", nameof(nodes));
        }

        // A node's scores depend only on its name, so two nodes sharing a name would tie on every key
        // and the winner would depend on the order the nodes were given in.
        Func<TNode, string> key = nodeKey ?? (static n => n.ToString() ?? string.Empty);
        HashSet<string> names = new(StringComparer.Ordinal);
        foreach (TNode node in _nodes)
        {
            string name = key(node);
            if (!names.Add(name))
            {
                throw new ArgumentException($"Node name '{name}' appears more than once; nodes need distinct names.", nameof(nodes));
            }
        }

        _nodeHashes = [.. _nodes.Select(n => StableHash.Hash64(key(n)))];
        _nodesView = Array.AsReadOnly(_nodes);
    }

    /// <summary>Gets the nodes, as a read-only view.</summary>
    public IReadOnlyList<TNode> Nodes => _nodesView;

    /// <summary>Returns the node with the highest score for <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The owner.</returns>
    public TNode GetNode(ReadOnlySpan<char> key) => GetNodeForHash(StableHash.Hash64(key));

    /// <summary>Returns the node with the highest score for the key hash.</summary>
    /// <param name="hash">The key's <see cref="StableHash"/>.</param>
    /// <returns>The owner.</returns>
    public TNode GetNodeForHash(ulong hash)
    {
        int best = 0;
        ulong bestScore = StableHash.Mix(hash, _nodeHashes[0]);
        for (int i = 1; i < _nodeHashes.Length; i++)
        {
            ulong score = StableHash.Mix(hash, _nodeHashes[i]);
            if (score > bestScore)
            {
                bestScore = score;
                best = i;
            }
        }

        return _nodes[best];
    }

    /// <summary>
    /// Writes the <c>min(destination.Length, n)</c> highest-scoring nodes for the key into
    /// <paramref name="destination"/>, best first: the replica placement. Does not allocate.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="destination">Receives the nodes.</param>
    /// <returns>The number of nodes written.</returns>
    public int GetNodes(ReadOnlySpan<char> key, Span<TNode> destination)
    {
        ulong hash = StableHash.Hash64(key);
        int wanted = Math.Min(destination.Length, _nodes.Length);
        const int StackScoresMax = 32;
        Span<ulong> scores = wanted <= StackScoresMax ? stackalloc ulong[StackScoresMax] : new ulong[wanted];
        int kept = 0;
        for (int i = 0; i < _nodes.Length; i++)
        {
            ulong score = StableHash.Mix(hash, _nodeHashes[i]);

            // Insertion into a small descending top-k list.
            int position = kept;
            while (position > 0 && scores[position - 1] < score)
            {
                position--;
            }

            if (position >= wanted)
            {
                continue;
            }

            int last = Math.Min(kept, wanted - 1);
            for (int j = last; j > position; j--)
            {
                scores[j] = scores[j - 1];
                destination[j] = destination[j - 1];
            }

            scores[position] = score;
            destination[position] = _nodes[i];
            kept = Math.Min(kept + 1, wanted);
        }

        return kept;
    }
}
