namespace Blueprint.Log.Records;

/// <summary>One record of a batch, as a consumer sees it.</summary>
/// <param name="Offset">Its offset in the partition.</param>
/// <param name="Timestamp">Milliseconds since the epoch (the batch's max timestamp for <see cref="TimestampType.LogAppendTime"/>).</param>
/// <param name="Key">The key; null when absent (a zero-length key is not null).</param>
/// <param name="Value">The value; null for a tombstone.</param>
/// <param name="Headers">The headers, in order.</param>
public sealed record LogRecord(long Offset, long Timestamp, ReadOnlyMemory<byte>? Key, ReadOnlyMemory<byte>? Value, IReadOnlyList<RecordHeader> Headers);

/// <summary>A record header: a UTF-8 key and an optional value.</summary>
/// <param name="Key">The header key.</param>
/// <param name="Value">The header value; null when absent.</param>
public readonly record struct RecordHeader(string Key, ReadOnlyMemory<byte>? Value);
