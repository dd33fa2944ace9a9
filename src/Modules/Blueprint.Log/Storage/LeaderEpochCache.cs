// Written by hand: the partition log is the subject of this module and no library provides a Kafka log.
// Rules: Kafka's leader epoch cache (LeaderEpochFileCache and its leader-epoch-checkpoint file), which answers
// OffsetForLeaderEpoch for a follower truncating a divergent tail after a leader change (KIP-101, KIP-279).
using System.Globalization;
using System.Text;

namespace Blueprint.Log.Storage;

/// <summary>The first offset written in a leader epoch.</summary>
/// <param name="Epoch">The leader epoch.</param>
/// <param name="StartOffset">The base offset of the first batch stamped with it.</param>
internal readonly record struct EpochEntry(int Epoch, long StartOffset);

/// <summary>
/// Per partition, the leader epochs of its records as (epoch, start offset) pairs, increasing in both: an epoch's
/// records run from its start offset to the next entry's start (or the log end). Entries come from the batches'
/// <c>partitionLeaderEpoch</c> as they are appended, so the batch headers are the truth and the checkpoint file only
/// spares a scan: a missing or damaged file is rebuilt from them. Changed only under the log's append lock; readers
/// take the entries as an immutable snapshot.
/// </summary>
/// <remarks>
/// The file is Kafka's <c>leader-epoch-checkpoint</c> text: a version line (0), a count line, then one
/// <c>epoch startOffset</c> line per entry. It is replaced atomically (temporary file, fsync, rename, directory
/// fsync). Crash rule: the file never lags the log — an entry is written before the batch that starts it, and after a
/// truncation or retention the stale entries it may still hold are dropped again when the log opens.
/// </remarks>
internal sealed class LeaderEpochCache
{
    private const int Version = 0;

    private readonly string _path;
    private EpochEntry[] _entries;

    private LeaderEpochCache(string path, EpochEntry[] entries)
    {
        _path = path;
        _entries = entries;
    }

    /// <summary>The entries, oldest first (an immutable snapshot).</summary>
    public IReadOnlyList<EpochEntry> Entries => Volatile.Read(ref _entries);

    /// <summary>The latest epoch, or -1 when none is known.</summary>
    public int LatestEpoch => Volatile.Read(ref _entries) is [.., var last] ? last.Epoch : -1;

    /// <summary>
    /// Loads the checkpoint of <paramref name="directory"/> (or rebuilds it from the batch headers of
    /// <paramref name="segments"/> when it is missing or damaged) and reconciles it with the recovered log: entries
    /// before <paramref name="logStartOffset"/> are clipped to it, entries at or past <paramref name="logEndOffset"/>
    /// (left by a cut tail or an interrupted truncation) are dropped. Writes the file when that changed anything.
    /// </summary>
    public static LeaderEpochCache Load(string directory, LogSegment[] segments, long logStartOffset, long logEndOffset)
    {
        string path = SegmentFiles.LeaderEpochCheckpointPath(directory);
        var stored = TryRead(path);
        var cache = new LeaderEpochCache(path, stored ?? Scan(segments));
        bool changed = cache.TruncateFromStart(logStartOffset);
        changed |= cache.TruncateFromEnd(logEndOffset);
        if (stored is null || changed)
        {
            cache.Persist();
        }

        return cache;
    }

    /// <summary>The entries a log's batch headers imply: one at the first batch of each epoch above the previous one.</summary>
    public static EpochEntry[] Scan(LogSegment[] segments)
    {
        var entries = new List<EpochEntry>();
        foreach (var segment in segments)
        {
            var scanner = segment.Scan(0, segment.Size, verifyCrc: false);
            while (scanner.TryNext(out var batch))
            {
                int epoch = batch.Header.PartitionLeaderEpoch;
                if (epoch >= 0 && (entries.Count == 0 || epoch > entries[^1].Epoch))
                {
                    entries.Add(new EpochEntry(epoch, batch.Header.BaseOffset));
                }
            }
        }

        return [.. entries];
    }

    /// <summary>The epoch of the last entry with records in a log ending at <paramref name="logEndOffset"/> (its start below it); -1 when none.</summary>
    public int LatestEpochWithRecords(long logEndOffset)
    {
        var entries = Volatile.Read(ref _entries);
        for (int i = entries.Length - 1; i >= 0; i--)
        {
            if (entries[i].StartOffset < logEndOffset)
            {
                return entries[i].Epoch;
            }
        }

        return -1;
    }

    /// <summary>
    /// OffsetForLeaderEpoch for <paramref name="epoch"/> on a log ending at <paramref name="logEndOffset"/>: the largest
    /// known epoch at or below it, with the start offset of the next known epoch as the end offset (the log end when it
    /// is the latest). Below every known epoch the answer is (<paramref name="epoch"/>, the first entry's start offset)
    /// as Kafka gives it since KIP-279: that history is gone from the log, and a follower truncating there replicates
    /// correctly from the leader's start. A negative epoch or an empty cache answers (-1, -1), Kafka's UNDEFINED.
    /// </summary>
    public (int Epoch, long EndOffset) EndOffsetFor(int epoch, long logEndOffset)
    {
        var entries = Volatile.Read(ref _entries);
        if (epoch < 0 || entries.Length == 0)
        {
            return (-1, -1);
        }

        int floor = entries.Length - 1;
        while (floor >= 0 && entries[floor].Epoch > epoch)
        {
            floor--;
        }

        if (floor < 0)
        {
            return (epoch, entries[0].StartOffset);
        }

        return floor == entries.Length - 1
            ? (entries[floor].Epoch, logEndOffset)
            : (entries[floor].Epoch, entries[floor + 1].StartOffset);
    }

    /// <summary>
    /// Records that <paramref name="epoch"/> starts at <paramref name="startOffset"/> (Kafka's assign), in memory only
    /// (see <see cref="Persist"/>): nothing changes when it is the latest epoch already, and entries of this epoch or
    /// later, or starting at or past the offset, are replaced. A negative epoch (a batch written before epochs were
    /// stamped) changes nothing. Returns whether the entries changed.
    /// </summary>
    public bool Assign(int epoch, long startOffset)
    {
        var entries = _entries;
        if (epoch < 0 || (entries is [.., var last] && last.Epoch == epoch && last.StartOffset <= startOffset))
        {
            return false;
        }

        int keep = entries.Length;
        while (keep > 0 && (entries[keep - 1].Epoch >= epoch || entries[keep - 1].StartOffset >= startOffset))
        {
            keep--;
        }

        Volatile.Write(ref _entries, [.. entries.AsSpan(0, keep), new EpochEntry(epoch, startOffset)]);
        return true;
    }

    /// <summary>Drops the entries starting at or past <paramref name="endOffset"/> (a truncation), in memory only; returns whether any went.</summary>
    public bool TruncateFromEnd(long endOffset)
    {
        var entries = _entries;
        int keep = entries.Length;
        while (keep > 0 && entries[keep - 1].StartOffset >= endOffset)
        {
            keep--;
        }

        if (keep == entries.Length)
        {
            return false;
        }

        Volatile.Write(ref _entries, entries[..keep]);
        return true;
    }

    /// <summary>
    /// Moves the front to <paramref name="startOffset"/> (retention deleted what was before it), in memory only: the
    /// entries starting at or before it give way to the latest of them, now starting there. Returns whether anything changed.
    /// </summary>
    public bool TruncateFromStart(long startOffset)
    {
        var entries = _entries;
        int last = -1;
        while (last + 1 < entries.Length && entries[last + 1].StartOffset <= startOffset)
        {
            last++;
        }

        if (last < 0 || (last == 0 && entries[0].StartOffset == startOffset))
        {
            return false;
        }

        Volatile.Write(ref _entries, [new EpochEntry(entries[last].Epoch, startOffset), .. entries.AsSpan(last + 1)]);
        return true;
    }

    /// <summary>Forgets every entry, in memory only.</summary>
    public void Clear() => Volatile.Write(ref _entries, []);

    /// <summary>Writes the entries to the checkpoint file atomically.</summary>
    public void Persist() => SegmentFiles.WriteAtomically(_path, Encoding.ASCII.GetBytes(Encode(_entries)));

    /// <summary>The checkpoint text of <paramref name="entries"/>.</summary>
    internal static string Encode(EpochEntry[] entries)
    {
        var text = new StringBuilder();
        text.Append(Version.ToString(CultureInfo.InvariantCulture)).Append('\n').Append(entries.Length.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var entry in entries)
        {
            text.Append(entry.Epoch.ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(entry.StartOffset.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Parses checkpoint text; null unless it is well formed with entries increasing in epoch and start offset.</summary>
    internal static EpochEntry[]? Decode(string text)
    {
        string[] lines = text.Split('\n');
        if (lines.Length < 3 || lines[^1].Length != 0
            || !int.TryParse(lines[0], NumberStyles.None, CultureInfo.InvariantCulture, out int version) || version != Version
            || !int.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count != lines.Length - 3)
        {
            return null;
        }

        var entries = new EpochEntry[count];
        for (int i = 0; i < count; i++)
        {
            string[] fields = lines[i + 2].Split(' ');
            if (fields.Length != 2
                || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out int epoch)
                || !long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long startOffset)
                || (i > 0 && (epoch <= entries[i - 1].Epoch || startOffset <= entries[i - 1].StartOffset)))
            {
                return null;
            }

            entries[i] = new EpochEntry(epoch, startOffset);
        }

        return entries;
    }

    private static EpochEntry[]? TryRead(string path)
    {
        try
        {
            return Decode(File.ReadAllText(path, Encoding.ASCII));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }
}
