using System.Collections.ObjectModel;

namespace Blueprint.Core.Hashing;

/// <content>The immutable sorted-array snapshot that lookups read.</content>
public sealed partial class HashRing<TNode>
{
    private RingSnapshot Build(TNode[] nodes, string[] names, int[] weights)
    {
        int total = 0;
        foreach (int weight in weights)
        {
            total = checked(total + (weight * VirtualNodesPerWeight));
        }

        ulong[] points = new ulong[total];
        int[] owners = new int[total];
        int next = 0;
        for (int n = 0; n < nodes.Length; n++)
        {
            int count = weights[n] * VirtualNodesPerWeight;
            for (int v = 0; v < count; v++)
            {
                // A point's position depends only on the node's name and its index, never on the other members,
                // which is what keeps every other node's points in place when the membership changes.
                points[next] = StableHash.Hash64($"{names[n]}#{v}");
                owners[next] = n;
                next++;
            }
        }

        // Ties (astronomically rare) break by node name so the ring never depends on insertion order.
        int[] order = new int[total];
        for (int i = 0; i < total; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) =>
        {
            int byPoint = points[a].CompareTo(points[b]);
            return byPoint != 0 ? byPoint : string.CompareOrdinal(names[owners[a]], names[owners[b]]);
        });

        ulong[] sortedPoints = new ulong[total];
        int[] sortedOwners = new int[total];
        for (int i = 0; i < total; i++)
        {
            sortedPoints[i] = points[order[i]];
            sortedOwners[i] = owners[order[i]];
        }

        return new RingSnapshot(sortedPoints, sortedOwners, nodes, names, weights);
    }

    private static MovedRange<TNode>[] Diff(RingSnapshot before, RingSnapshot after)
    {
        if (before.Points.Length == 0 || after.Points.Length == 0)
        {
            return [];
        }

        // Between two consecutive boundaries of either ring, each ring has a single owner,
        // so comparing owners at every boundary of the merged set finds exactly the moved arcs.
        ulong[] boundaries = [.. before.Points.Union(after.Points).Order()];
        List<MovedRange<TNode>> moved = [];
        for (int i = 0; i < boundaries.Length; i++)
        {
            ulong end = boundaries[i];
            ulong start = boundaries[(i + boundaries.Length - 1) % boundaries.Length];
            TNode from = before.Nodes[before.Owners[before.Successor(end)]];
            TNode to = after.Nodes[after.Owners[after.Successor(end)]];
            if (EqualityComparer<TNode>.Default.Equals(from, to))
            {
                continue;
            }

            bool extendsPrevious = moved.Count > 0
                && moved[^1].EndInclusive == start
                && EqualityComparer<TNode>.Default.Equals(moved[^1].From, from)
                && EqualityComparer<TNode>.Default.Equals(moved[^1].To, to);
            moved.Add(extendsPrevious ? moved[^1] with { EndInclusive = end } : new MovedRange<TNode>(start, end, from, to));
            if (extendsPrevious)
            {
                moved.RemoveAt(moved.Count - 2);
            }
        }

        return [.. moved];
    }

    private sealed class RingSnapshot(ulong[] points, int[] owners, TNode[] nodes, string[] names, int[] weights)
    {
        public static readonly RingSnapshot Empty = new([], [], [], [], []);

        public ulong[] Points { get; } = points;

        public int[] Owners { get; } = owners;

        public TNode[] Nodes { get; } = nodes;

        /// <summary>Gets <see cref="Nodes"/> wrapped once, so callers cannot cast it back to the array and rewrite the ring.</summary>
        public ReadOnlyCollection<TNode> NodesView { get; } = Array.AsReadOnly(nodes);

        /// <summary>Gets each node's hashing name, in the order of <see cref="Nodes"/>.</summary>
        public string[] Names { get; } = names;

        /// <summary>Gets each node's weight, in the order of <see cref="Nodes"/>.</summary>
        public int[] Weights { get; } = weights;

        /// <summary>Index of the first point at or after <paramref name="hash"/>, wrapping to 0.</summary>
        public int Successor(ulong hash)
        {
            int index = Array.BinarySearch(Points, hash);
            if (index < 0)
            {
                index = ~index;
            }

            return index == Points.Length ? 0 : index;
        }
    }
}
