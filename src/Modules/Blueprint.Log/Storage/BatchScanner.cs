using Blueprint.Log.Records;
using Microsoft.Win32.SafeHandles;

namespace Blueprint.Log.Storage;

/// <summary>Why a <see cref="BatchScanner"/> stopped.</summary>
internal enum ScanStop
{
    /// <summary>Still scanning.</summary>
    None,

    /// <summary>Every byte of the range was a whole, valid batch.</summary>
    End,

    /// <summary>The range ends inside a batch (a torn write).</summary>
    Torn,

    /// <summary>A batch fails its checks: bad length, magic, CRC, or an offset that does not increase.</summary>
    Corrupt,
}

/// <summary>One batch found by a scan: its file position, header and bytes (valid until the scanner moves on).</summary>
internal readonly record struct ScannedBatch(long Position, RecordBatchHeader Header, ReadOnlyMemory<byte> Bytes);

/// <summary>
/// Walks the batches of a segment file from a position, reading through one buffer (grown to the largest batch) so a
/// scan costs a read per buffer rather than per batch. Used by recovery, index rebuilds, producer-state replay and the
/// cleaner. Stops at the first batch that is torn or fails its checks; <see cref="Position"/> is then where the last
/// whole valid batch ends: the truncation point of a recovering tail.
/// </summary>
internal sealed class BatchScanner
{
    /// <summary>The bytes read at a time.</summary>
    public const int ReadBytes = 256 * 1024;

    private readonly SafeFileHandle _file;
    private readonly long _end;
    private readonly bool _verifyCrc;
    private byte[] _buffer = new byte[ReadBytes];
    private long _bufferStart;
    private int _bufferLength;
    private long _nextOffsetMin;

    /// <summary>Scans <paramref name="file"/> from <paramref name="start"/> to <paramref name="end"/>; batches must have base offsets at or above <paramref name="firstOffsetMin"/> and increase.</summary>
    public BatchScanner(SafeFileHandle file, long start, long end, long firstOffsetMin, bool verifyCrc)
    {
        _file = file;
        _end = end;
        _verifyCrc = verifyCrc;
        _bufferStart = start;
        _nextOffsetMin = firstOffsetMin;
        Position = start;
    }

    /// <summary>Where the last whole valid batch ends (the start of the next one).</summary>
    public long Position { get; private set; }

    public ScanStop Stop { get; private set; }

    /// <summary>The next batch, or false when the scan has stopped (see <see cref="Stop"/>).</summary>
    public bool TryNext(out ScannedBatch batch)
    {
        batch = default;
        if (Stop != ScanStop.None)
        {
            return false;
        }

        if (Position == _end)
        {
            Stop = ScanStop.End;
            return false;
        }

        if (!Ensure(RecordBatchHeader.Size))
        {
            Stop = ScanStop.Torn;
            return false;
        }

        var span = _buffer.AsSpan((int)(Position - _bufferStart), _bufferLength - (int)(Position - _bufferStart));
        if (!RecordBatchHeader.TryParse(span, out var header) || header.Magic != RecordBatchHeader.CurrentMagic
            || header.LastOffsetDelta < 0 || header.BaseOffset < _nextOffsetMin)
        {
            Stop = ScanStop.Corrupt;
            return false;
        }

        if (header.TotalSize > _end - Position)
        {
            Stop = ScanStop.Torn;
            return false;
        }

        if (!Ensure(header.TotalSize))
        {
            Stop = ScanStop.Torn;
            return false;
        }

        var bytes = _buffer.AsMemory((int)(Position - _bufferStart), header.TotalSize);
        if (_verifyCrc && !header.HasValidCrc(bytes.Span))
        {
            Stop = ScanStop.Corrupt;
            return false;
        }

        batch = new ScannedBatch(Position, header, bytes);
        Position += header.TotalSize;
        _nextOffsetMin = header.LastOffset + 1;
        return true;
    }

    /// <summary>Makes the buffer hold <paramref name="bytes"/> bytes from <see cref="Position"/>; false when the file ends first.</summary>
    private bool Ensure(int bytes)
    {
        int available = _bufferLength - (int)(Position - _bufferStart);
        if (available >= bytes)
        {
            return true;
        }

        if (bytes > _buffer.Length)
        {
            var larger = new byte[Math.Max(bytes, _buffer.Length * 2)];
            _buffer.AsSpan((int)(Position - _bufferStart), available).CopyTo(larger);
            _buffer = larger;
        }
        else
        {
            _buffer.AsSpan((int)(Position - _bufferStart), available).CopyTo(_buffer);
        }

        _bufferStart = Position;
        _bufferLength = available;
        while (_bufferLength < bytes)
        {
            int want = (int)Math.Min(_buffer.Length - _bufferLength, _end - (_bufferStart + _bufferLength));
            if (want <= 0)
            {
                return false;
            }

            int read = RandomAccess.Read(_file, _buffer.AsSpan(_bufferLength, want), _bufferStart + _bufferLength);
            if (read == 0)
            {
                return false;
            }

            _bufferLength += read;
        }

        return true;
    }
}
