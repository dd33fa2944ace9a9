namespace Blueprint.Kv.Cluster;

/// <summary>Moving <see cref="Range"/> from the primary <see cref="From"/> to the primary <see cref="To"/>.</summary>
internal sealed record SlotMove(KvClusterNode From, KvClusterNode To, SlotRange Range);

/// <summary>
/// Plans the slot moves that give every primary an equal share (16384 / primaries, the first ones one more), moving as
/// few slots as it can: each over-full primary gives its highest slots to under-full ones, in ranges of at most
/// <see cref="MaxRangeSize"/> slots, so clients see MOVED for small pieces at a time and a failed move costs little.
/// </summary>
internal static class SlotRebalancer
{
    /// <summary>The most slots one MIGRATE moves.</summary>
    public const int MaxRangeSize = 256;

    public static IReadOnlyList<SlotMove> Plan(IReadOnlyList<KvClusterNode> primaries)
    {
        ArgumentNullException.ThrowIfNull(primaries);
        var ordered = primaries.OrderBy(node => node.Endpoint.Host, StringComparer.Ordinal).ThenBy(node => node.Endpoint.Port).ToList();
        if (ordered.Count == 0)
        {
            return [];
        }

        var targets = ordered.Select((node, i) => (SlotRange.SlotCount / ordered.Count) + (i < SlotRange.SlotCount % ordered.Count ? 1 : 0)).ToList();
        var surplus = new List<(KvClusterNode Node, int Slot)>();
        for (var i = 0; i < ordered.Count; i++)
        {
            var slots = ordered[i].Slots.SelectMany(range => Enumerable.Range(range.Start, range.Count)).Order().ToList();
            surplus.AddRange(slots.Skip(targets[i]).Select(slot => (ordered[i], slot)));
        }

        var moves = new List<SlotMove>();
        var next = 0;
        for (var i = 0; i < ordered.Count; i++)
        {
            var need = targets[i] - ordered[i].SlotCount;
            var given = surplus.Skip(next).Take(Math.Max(0, need)).ToList();
            next += given.Count;
            foreach (var group in given.GroupBy(item => item.Node))
            {
                foreach (var range in Ranges(group.Select(item => item.Slot)))
                {
                    moves.Add(new SlotMove(group.Key, ordered[i], range));
                }
            }
        }

        return moves;
    }

    private static IEnumerable<SlotRange> Ranges(IEnumerable<int> slots)
    {
        int? start = null;
        var end = 0;
        foreach (var slot in slots.Order())
        {
            if (start is { } first && slot == end + 1 && slot - first < MaxRangeSize)
            {
                end = slot;
                continue;
            }

            if (start is { } done)
            {
                yield return new SlotRange(done, end);
            }

            start = slot;
            end = slot;
        }

        if (start is { } last)
        {
            yield return new SlotRange(last, end);
        }
    }
}
