namespace Blueprint.Core.Raft;

/// <summary>
/// The node's log in memory: the snapshot's metadata followed by the entries after it. Entries past
/// <see cref="UnstableFrom"/> have not yet been handed to the driver to persist.
/// </summary>
internal sealed class RaftLog
{
    private readonly List<LogEntry> _entries = [];

    public RaftLog(SnapshotMetadata snapshot, IReadOnlyList<LogEntry> entries)
    {
        Snapshot = snapshot;
        _entries.AddRange(entries);
        UnstableFrom = LastIndex + 1;
    }

    public SnapshotMetadata Snapshot { get; private set; }

    public long SnapshotIndex => Snapshot.Index;

    public long LastIndex => Snapshot.Index + _entries.Count;

    public long LastTerm => Term(LastIndex);

    /// <summary>The first index not yet handed to the driver for persisting.</summary>
    public long UnstableFrom { get; set; }

    /// <summary>The lowest index a truncation reached since the last Ready, so Advance does not mark rewritten entries stable.</summary>
    public long TruncatedTo { get; set; } = long.MaxValue;

    /// <summary>The term at <paramref name="index"/>, or -1 when it is compacted away or past the end.</summary>
    public long Term(long index)
    {
        if (index == Snapshot.Index)
        {
            return Snapshot.Term;
        }

        return index < Snapshot.Index || index > LastIndex ? -1 : _entries[(int)(index - Snapshot.Index - 1)].Term;
    }

    public bool Matches(long index, long term) => Term(index) == term;

    public LogEntry Entry(long index) => _entries[(int)(index - Snapshot.Index - 1)];

    /// <summary>Whether a candidate's log is at least as up to date as this one (paper §5.4.1).</summary>
    public bool IsUpToDate(long lastIndex, long lastTerm) => lastTerm > LastTerm || (lastTerm == LastTerm && lastIndex >= LastIndex);

    /// <summary>Entries from <paramref name="from"/> to <paramref name="to"/> inclusive, at most <paramref name="countMax"/>.</summary>
    public List<LogEntry> Slice(long from, long to, int countMax)
    {
        long last = Math.Min(to, from + countMax - 1);
        var slice = new List<LogEntry>((int)Math.Max(0, last - from + 1));
        for (long i = from; i <= last; i++)
        {
            slice.Add(Entry(i));
        }

        return slice;
    }

    /// <summary>The last index at or below <paramref name="index"/> whose term is at most <paramref name="term"/>: where the next probe may match (fast back-off).</summary>
    public long FindConflictByTerm(long index, long term)
    {
        long i = Math.Min(index, LastIndex);
        while (i > Snapshot.Index && Term(i) > term)
        {
            i--;
        }

        return Math.Max(i, Snapshot.Index);
    }

    public void Append(LogEntry entry) => _entries.Add(entry);

    /// <summary>Drops every entry at or after <paramref name="index"/>.</summary>
    public void TruncateFrom(long index)
    {
        int keep = (int)(index - Snapshot.Index - 1);
        _entries.RemoveRange(keep, _entries.Count - keep);
        UnstableFrom = Math.Min(UnstableFrom, index);
        TruncatedTo = Math.Min(TruncatedTo, index);
    }

    /// <summary>Drops the entries a local snapshot at <paramref name="snapshot"/> covers.</summary>
    public void Compact(SnapshotMetadata snapshot)
    {
        int drop = (int)(snapshot.Index - Snapshot.Index);
        _entries.RemoveRange(0, drop);
        Snapshot = snapshot;
    }

    /// <summary>Replaces the whole log by a snapshot from the leader.</summary>
    public void Restore(SnapshotMetadata snapshot)
    {
        _entries.Clear();
        Snapshot = snapshot;
        UnstableFrom = snapshot.Index + 1;
        TruncatedTo = Math.Min(TruncatedTo, snapshot.Index + 1);
    }

    /// <summary>The newest configuration entry at or below <paramref name="atOrBelow"/> still in the log (after the snapshot), or null.</summary>
    public LogEntry? LastConfiguration(long atOrBelow)
    {
        for (long i = Math.Min(atOrBelow, LastIndex); i > Snapshot.Index; i--)
        {
            var entry = Entry(i);
            if (entry.Kind == EntryKind.Configuration)
            {
                return entry;
            }
        }

        return null;
    }
}
