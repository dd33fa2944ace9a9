// Written by hand: the partition log is the subject of this module and no library provides a Kafka log.
// The storage side of Kafka's replication: the leader epoch cache that answers OffsetForLeaderEpoch (KIP-101, KIP-279).

namespace Blueprint.Log.Storage;

/// <content>Replication: leader epochs.</content>
public sealed partial class PartitionLog
{
    /// <summary>The latest leader epoch the log knows (of its last records, or of the last leader append); -1 when none.</summary>
    public int LatestEpoch => _epochs.LatestEpoch;

    /// <summary>The (epoch, start offset) entries of the leader epoch cache, oldest first.</summary>
    internal IReadOnlyList<EpochEntry> EpochEntries => _epochs.Entries;

    /// <summary>
    /// OffsetForLeaderEpoch: the largest epoch of the log at or below <paramref name="epoch"/>, and its end offset — the
    /// start offset of the next larger epoch, or <see cref="LogEndOffset"/> when it is the latest. A follower truncates
    /// its log to the smaller of that end offset and its own end for the returned epoch (KIP-101, KIP-279).
    /// </summary>
    /// <remarks>
    /// Below every known epoch the answer is (<paramref name="epoch"/>, start offset of the first known epoch), as Kafka
    /// gives it: that history was deleted, and a follower truncating there replicates correctly from the leader's start.
    /// A negative <paramref name="epoch"/> or a log without epochs answers (-1, -1), Kafka's UNDEFINED_EPOCH and
    /// UNDEFINED_EPOCH_OFFSET. The answer is consistent with one moment of the log (taken under the append lock).
    /// </remarks>
    public (int Epoch, long EndOffset) EndOffsetForEpoch(int epoch)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        lock (_appendLock)
        {
            return _epochs.EndOffsetFor(epoch, _nextOffset);
        }
    }

    /// <summary>
    /// Writes appended bytes after the epochs they start, so the checkpoint never lags the log; when the checkpoint or
    /// the bytes fail, the new epochs are taken back (or, if even that cannot be written, dropped on the next open as
    /// entries past the log end).
    /// </summary>
    private void WriteWithEpochs(LogSegment active, ReadOnlySpan<byte> data, ReadOnlySpan<AppendedBatch> appended, bool epochsChanged)
    {
        try
        {
            if (epochsChanged)
            {
                _epochs.Persist();
            }

            active.Append(data, appended);
        }
        catch (Exception) when (epochsChanged)
        {
            _epochs.TruncateFromEnd(_nextOffset);
            try
            {
                _epochs.Persist();
            }
            catch (IOException)
            {
                // Opening the log drops entries at or past its end.
            }

            throw;
        }
    }
}
