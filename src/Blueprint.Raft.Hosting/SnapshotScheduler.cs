using Blueprint.Core.Raft;
using Microsoft.Extensions.Logging;

namespace Blueprint.Raft.Hosting;

/// <summary>
/// Every <see cref="RaftHostOptions.SnapshotEveryEntries"/> applied entries, a snapshot in three steps, so that a
/// large state never stalls the loop (etcd keeps its state in bolt and needs no such step; here the state lives in
/// memory and is encoded whole): the loop captures the state (<see cref="IRaftStateMachine.CaptureSnapshot"/>, a
/// copy of references); a pool thread encodes it; the loop compacts the node's log to it; a pool thread writes and
/// fsyncs its file (<see cref="ISnapshotPrewrite"/>, when the storage can); the loop records it in the storage.
/// One snapshot is in progress at a time. Until it is recorded, storage keeps the entries, which is safe.
/// </summary>
/// <param name="nodeId">The host's node id, for logs.</param>
/// <param name="everyEntries">Applied entries between snapshots.</param>
/// <param name="storage">Where a snapshot is recorded.</param>
/// <param name="stateMachine">Whose state a snapshot captures.</param>
/// <param name="logger">Where snapshot progress and failures are logged.</param>
/// <param name="postToLoop">Hands the next step to the driver loop; must not lose it.</param>
/// <param name="loopStopped">Whether the driver loop has stopped; read on the loop.</param>
internal sealed class SnapshotScheduler(
    int nodeId,
    int everyEntries,
    IRaftStorage storage,
    IRaftStateMachine stateMachine,
    ILogger logger,
    Action<Action> postToLoop,
    Func<bool> loopStopped)
{
    private Task? _running;
    private int _busy;

    /// <summary>The latest off-loop step, for a stopping host to await.</summary>
    public Task? Running => _running;

    /// <summary>Starts a snapshot when enough entries were applied since the last one and none is in progress. On the loop.</summary>
    /// <param name="node">The host's node.</param>
    /// <param name="table">The member table as of the applied index.</param>
    public void MaybeStart(RaftNode node, MemberTable table)
    {
        if (Volatile.Read(ref _busy) != 0 || node.AppliedIndex - node.SnapshotIndex < everyEntries)
        {
            return;
        }

        Volatile.Write(ref _busy, 1);
        long index = node.AppliedIndex;
        var encodedTable = table.Encode();
        var encode = stateMachine.CaptureSnapshot();
        _running = Task.Run(() => OffLoop(index, () =>
        {
            var data = RaftHost.EncodeSnapshot(encodedTable, encode());
            postToLoop(() => CompactTo(node, index, data));
            return true;
        }));
    }

    private void CompactTo(RaftNode node, long index, byte[] data)
    {
        if (loopStopped() || index <= node.SnapshotIndex)
        {
            // Stopped, or a snapshot from the leader got further meanwhile.
            Volatile.Write(ref _busy, 0);
            return;
        }

        var snapshot = node.Compact(index, data);
        if (storage is ISnapshotPrewrite prewrite)
        {
            _running = Task.Run(() => OffLoop(index, () =>
            {
                prewrite.PrewriteSnapshot(snapshot);
                postToLoop(() => Record(snapshot));
                return true;
            }));
        }
        else
        {
            Record(snapshot);
        }
    }

    private void Record(Snapshot snapshot)
    {
        try
        {
            if (!loopStopped())
            {
                storage.SaveSnapshot(snapshot);
                ClusterLog.Compacted(logger, nodeId, snapshot.Metadata.Index);
            }
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Runs a snapshot step off the loop; when it fails, or cannot hand the next step to the loop, the snapshot is given up.</summary>
    private void OffLoop(long index, Func<bool> step)
    {
        try
        {
            if (step())
            {
                return;
            }
        }
#pragma warning disable CA1031 // A failed snapshot is logged; the log stays longer and the next threshold tries again.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            ClusterLog.SnapshotFailed(logger, exception, nodeId, index);
        }

        Volatile.Write(ref _busy, 0);
    }
}
