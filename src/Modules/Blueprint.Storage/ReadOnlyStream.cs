namespace Blueprint.Storage;

/// <summary>
/// The common shape of the module's forward-only read streams (request bodies checked as they are read, throttled
/// transfers): everything but reading is unsupported. Subclasses override the reads and, if they count, <see cref="Consumed"/>.
/// </summary>
internal abstract class ReadOnlyStream : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => Consumed;
        set => throw new NotSupportedException();
    }

    /// <summary>The bytes handed out so far, when the stream counts them.</summary>
    protected virtual long Consumed => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
