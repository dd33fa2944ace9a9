namespace Blueprint.Core.Raft;

/// <summary>What a log entry carries.</summary>
public enum EntryKind
{
    /// <summary>A client command for the state machine.</summary>
    Normal,

    /// <summary>The empty entry a new leader appends to commit entries of earlier terms (paper §5.4.2, §8).</summary>
    Empty,

    /// <summary>The full new voter set, encoded by <see cref="Membership.Encode"/>; it takes effect when appended (thesis §4.1).</summary>
    Configuration,
}

/// <summary>One entry of the replicated log.</summary>
/// <param name="Index">The position in the log, from 1.</param>
/// <param name="Term">The leader's term when the entry was created.</param>
/// <param name="Kind">What the entry carries.</param>
/// <param name="Data">The command, or the encoded voter set of a configuration entry.</param>
public readonly record struct LogEntry(long Index, long Term, EntryKind Kind, ReadOnlyMemory<byte> Data);

/// <summary>The state every node persists before it sends a message that depends on it (paper Figure 2).</summary>
/// <param name="Term">The latest term the node has seen.</param>
/// <param name="Vote">The node voted for in <paramref name="Term"/>, or 0.</param>
/// <param name="Commit">The highest index known committed; persisted so a restart re-applies no less than it knew.</param>
public readonly record struct HardState(long Term, int Vote, long Commit);

/// <summary>Where a snapshot ends and the configuration in force there.</summary>
/// <param name="Index">The last index the snapshot covers.</param>
/// <param name="Term">The term of that entry.</param>
/// <param name="Voters">The voter set in force at <paramref name="Index"/>, sorted.</param>
public sealed record SnapshotMetadata(long Index, long Term, IReadOnlyList<int> Voters);

/// <summary>A state machine image covering the log up to <see cref="SnapshotMetadata.Index"/> (paper §7).</summary>
/// <param name="Metadata">Where the snapshot ends.</param>
/// <param name="Data">The state machine's bytes; opaque to Raft.</param>
public sealed record Snapshot(SnapshotMetadata Metadata, ReadOnlyMemory<byte> Data);
