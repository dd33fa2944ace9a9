namespace Blueprint.Log.Records;

/// <summary>A read-only, seekable stream over a <see cref="ReadOnlyMemory{T}"/>, so stream codecs read a batch without copying it.</summary>
internal sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> source) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => source.Length;

    public override long Position
    {
        get => _position;
        set => _position = (int)Math.Clamp(value, 0, source.Length);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(buffer.Length, source.Length - _position);
        source.Span.Slice(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override int ReadByte() => _position < source.Length ? source.Span[_position++] : -1;

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => source.Length + offset,
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
