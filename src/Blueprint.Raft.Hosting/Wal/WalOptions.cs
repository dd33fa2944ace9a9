using Blueprint.Core.Raft;

namespace Blueprint.Raft.Hosting.Wal;

/// <summary>The settings of a <see cref="FileRaftStorage"/>; every problem is reported at once by <see cref="Problems"/>.</summary>
public sealed record WalOptions
{
    /// <summary>The smallest allowed <see cref="SegmentBytes"/>.</summary>
    public const long SegmentBytesMin = 4 * 1024;

    /// <summary>The largest allowed <see cref="SegmentBytes"/>.</summary>
    public const long SegmentBytesMaxAllowed = 1L << 40;

    /// <summary>The smallest allowed <see cref="RecordBytesMax"/>: room for a record header and a small entry.</summary>
    public const int RecordBytesMaxMin = 1024;

    /// <summary>The largest allowed <see cref="RecordBytesMax"/>: a record is read into one array.</summary>
    public const int RecordBytesMaxAllowed = 1 << 30;

    /// <summary>
    /// The size after which the WAL rolls to a new segment file. The check runs before each batch, so a segment
    /// may exceed it by one batch.
    /// </summary>
    /// <value>From <see cref="SegmentBytesMin"/> to <see cref="SegmentBytesMaxAllowed"/>; default 64 MiB.</value>
    public long SegmentBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// The largest record, header included, that a write accepts; a longer entry is refused with an
    /// <see cref="ArgumentException"/> before anything is written. Recovery does not apply it, so lowering it never
    /// makes records written earlier unreadable.
    /// </summary>
    /// <value>From <see cref="RecordBytesMaxMin"/> to <see cref="RecordBytesMaxAllowed"/>; default 64 MiB.</value>
    public int RecordBytesMax { get; init; } = 64 * 1024 * 1024;

    /// <summary>
    /// Whether writes are fsynced (files and directories). False breaks the durability promise of
    /// <see cref="IRaftStorage"/>: a machine crash loses acknowledged writes. It exists only to compare with etcd
    /// run with <c>--unsafe-no-fsync</c> in benchmarks; never set it false in production.
    /// </summary>
    /// <value>Default true.</value>
    public bool Fsync { get; init; } = true;

    /// <summary>Every problem with these options, each naming the setting, its value and what is allowed.</summary>
    /// <returns>An empty list when the options are valid.</returns>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (SegmentBytes is < SegmentBytesMin or > SegmentBytesMaxAllowed)
        {
            problems.Add($"SegmentBytes = {SegmentBytes}: must be from {SegmentBytesMin} to {SegmentBytesMaxAllowed}");
        }

        if (RecordBytesMax is < RecordBytesMaxMin or > RecordBytesMaxAllowed)
        {
            problems.Add($"RecordBytesMax = {RecordBytesMax}: must be from {RecordBytesMaxMin} to {RecordBytesMaxAllowed}");
        }

        return problems;
    }
}
