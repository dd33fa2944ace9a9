namespace Blueprint.Log.Storage;

/// <summary>
/// Builds a segment's offset and time indexes as batches are appended (or found by a scan), with Kafka's rules: an
/// offset-index entry (and a time-index entry) once more than the index interval of bytes went by since the last
/// one, and a final time-index entry when the segment closes. Also tracks the segment's largest timestamp and next
/// offset. Only one thread (the appender, or a scan) uses it.
/// </summary>
internal sealed class IndexTracker(long baseOffset, int indexIntervalBytes)
{
    private readonly long _baseOffset = baseOffset;
    private int _bytesSinceIndexEntry;

    public OffsetIndex OffsetIndex { get; } = new();

    public TimeIndex TimeIndex { get; } = new();

    /// <summary>The largest batch max timestamp seen, or -1.</summary>
    public long MaxTimestamp { get; private set; } = -1;

    /// <summary>The base offset of the first batch that reached <see cref="MaxTimestamp"/>.</summary>
    public long OffsetOfMaxTimestamp { get; private set; } = baseOffset;

    /// <summary>One past the last offset tracked (the segment's base offset when empty).</summary>
    public long NextOffset { get; set; } = baseOffset;

    /// <summary>Takes in the batch at <paramref name="position"/> of the segment file.</summary>
    public void Track(long position, long batchBaseOffset, long batchLastOffset, long batchMaxTimestamp, int batchBytes)
    {
        if (batchMaxTimestamp > MaxTimestamp)
        {
            MaxTimestamp = batchMaxTimestamp;
            OffsetOfMaxTimestamp = batchBaseOffset;
        }

        if (_bytesSinceIndexEntry > indexIntervalBytes)
        {
            OffsetIndex.Append(checked((int)(batchBaseOffset - _baseOffset)), checked((int)position));
            TimeIndex.MaybeAppend(MaxTimestamp, (int)(OffsetOfMaxTimestamp - _baseOffset));
            _bytesSinceIndexEntry = 0;
        }

        _bytesSinceIndexEntry += batchBytes;
        NextOffset = batchLastOffset + 1;
    }

    /// <summary>Adds the closing time-index entry, so the last entry holds the segment's largest timestamp.</summary>
    public void Seal()
    {
        if (MaxTimestamp >= 0)
        {
            TimeIndex.MaybeAppend(MaxTimestamp, (int)(OffsetOfMaxTimestamp - _baseOffset));
        }
    }
}
