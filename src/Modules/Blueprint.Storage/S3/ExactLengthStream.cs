using Microsoft.AspNetCore.Http;

namespace Blueprint.Storage.S3;

/// <summary>
/// A request body that must hold exactly the length the request declared: fewer bytes (the client stopped) or more are
/// IncompleteBody, so a cut-off upload is refused rather than stored short.
/// </summary>
internal sealed class ExactLengthStream(Stream inner, long length) : ReadOnlyStream
{
    private long _read;

    public override long Length => length;

    protected override long Consumed => _read;

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n;
        try
        {
            n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (BadHttpRequestException)
        {
            throw S3Exception.IncompleteBody();
        }
        catch (IOException) when (!cancellationToken.IsCancellationRequested)
        {
            throw S3Exception.IncompleteBody();
        }

        _read += n;
        if (_read > length)
        {
            throw S3Exception.IncompleteBody("The request body is longer than its declared length.");
        }

        if (n == 0 && buffer.Length > 0 && _read < length)
        {
            throw S3Exception.IncompleteBody();
        }

        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}
