namespace Blueprint.Core.Raft;

/// <summary>
/// Stable storage of one node: the hard state, the latest snapshot and the log entries after it. The core only reads
/// it when a node starts; the driver writes it from each <see cref="Ready"/> before sending that Ready's messages and
/// before applying its committed entries. An implementation must make each write durable before it returns (a WAL
/// fsyncs); a crash may lose only writes that have not returned, and the commit index of a hard state whose term and
/// vote did not change, which Raft does not need durable (a restarted node learns it again).
/// </summary>
public interface IRaftStorage
{
    /// <summary>The persisted hard state; term 0, no vote and commit 0 for a new node.</summary>
    HardState HardState { get; }

    /// <summary>The latest snapshot: the bootstrap configuration at index 0 for a new node.</summary>
    Snapshot Snapshot { get; }

    /// <summary>The entries after the snapshot, in index order without gaps.</summary>
    /// <returns>The persisted entries.</returns>
    IReadOnlyList<LogEntry> LoadEntries();

    /// <summary>Replaces the hard state.</summary>
    /// <param name="hardState">The new hard state.</param>
    void SaveHardState(HardState hardState);

    /// <summary>Drops every entry at or after <c>entries[0].Index</c>, then appends <paramref name="entries"/>.</summary>
    /// <param name="entries">Consecutive entries starting at most one past the last stored index.</param>
    void Append(IReadOnlyList<LogEntry> entries);

    /// <summary>Replaces the snapshot and drops every entry it covers; entries after it are kept only if the log holds the snapshot's last entry.</summary>
    /// <param name="snapshot">A newer snapshot, from the leader or from local compaction.</param>
    void SaveSnapshot(Snapshot snapshot);
}

/// <summary>
/// Storage that can write a snapshot's bulk off the driver thread: <see cref="PrewriteSnapshot"/> makes the snapshot's
/// file durable from any thread, and the driver's later <see cref="IRaftStorage.SaveSnapshot"/> of the same instance
/// only records it. A driver uses it so that a large snapshot does not stall the loop for its write and fsync.
/// </summary>
public interface ISnapshotPrewrite
{
    /// <summary>Writes <paramref name="snapshot"/>'s file durably; thread-safe against every other member.</summary>
    /// <param name="snapshot">The snapshot that <see cref="IRaftStorage.SaveSnapshot"/> will be given next.</param>
    void PrewriteSnapshot(Snapshot snapshot);
}

/// <summary>
/// Storage that persists everything of one <see cref="Ready"/> in one durable write: with a WAL, one fsync per Ready,
/// which is the group commit (every proposal that arrived while the previous Ready was persisted shares it).
/// </summary>
public interface IBatchRaftStorage : IRaftStorage
{
    /// <summary>
    /// Persists, in this order, <paramref name="snapshot"/> (as <see cref="IRaftStorage.SaveSnapshot"/>), then
    /// <paramref name="entries"/> (as <see cref="IRaftStorage.Append"/>), then <paramref name="hardState"/>, all
    /// durable when it returns. Nothing is written when an argument is refused.
    /// </summary>
    /// <param name="hardState">The new hard state, or null to keep the current one.</param>
    /// <param name="entries">Entries to append, possibly empty.</param>
    /// <param name="snapshot">A snapshot to save, or null.</param>
    void Save(HardState? hardState, IReadOnlyList<LogEntry> entries, Snapshot? snapshot);
}

/// <summary>The persisting half of the Ready contract.</summary>
public static class RaftStorageExtensions
{
    /// <summary>
    /// Persists a Ready in the order a crash can tolerate: snapshot, entries, then the hard state that refers to them;
    /// with one <see cref="IBatchRaftStorage.Save"/> call when the storage supports it.
    /// </summary>
    /// <param name="storage">The node's storage.</param>
    /// <param name="ready">The batch returned by <see cref="RaftNode.Ready"/>.</param>
    public static void Persist(this IRaftStorage storage, Ready ready)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(ready);
        if (storage is IBatchRaftStorage batch)
        {
            if (ready.Snapshot is not null || ready.Entries.Count > 0 || ready.HardState is not null)
            {
                batch.Save(ready.HardState, ready.Entries, ready.Snapshot);
            }

            return;
        }

        if (ready.Snapshot is { } snapshot)
        {
            storage.SaveSnapshot(snapshot);
        }

        if (ready.Entries.Count > 0)
        {
            storage.Append(ready.Entries);
        }

        if (ready.HardState is { } hardState)
        {
            storage.SaveHardState(hardState);
        }
    }
}
