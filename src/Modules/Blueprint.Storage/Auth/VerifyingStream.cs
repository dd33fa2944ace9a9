using Blueprint.Storage.S3;
using Microsoft.AspNetCore.Http;

namespace Blueprint.Storage.Auth;

/// <summary>
/// A plain (not aws-chunked) body passed through as it is read, its digests checked and its length compared with the
/// declared one when the end is reached: the failure is thrown instead of reporting the end.
/// </summary>
internal sealed class VerifyingStream : ReadOnlyStream, IVerifiedBody
{
    private readonly Stream _inner;
    private readonly long? _length;
    private readonly PayloadDigests _digests;
    private long _read;
    private bool _done;
    private S3Exception? _failure;

    public VerifyingStream(Stream inner, long? length, PayloadDigests digests)
    {
        _inner = inner;
        _length = length;
        _digests = digests;
    }

    /// <summary>The body's checksums with their declared values, once the end was read.</summary>
    public IReadOnlyList<PayloadChecksum> Checksums => _digests.Checksums;

    protected override long Consumed => _read;

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    public override int Read(Span<byte> buffer)
    {
        if (Before(buffer.Length) is int early)
        {
            return early;
        }

        int n;
        try
        {
            n = _inner.Read(buffer);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status400BadRequest)
        {
            throw Fail(S3Exception.IncompleteBody());
        }

        return After(buffer[..n]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Before(buffer.Length) is int early)
        {
            return early;
        }

        int n;
        try
        {
            n = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status400BadRequest)
        {
            throw Fail(S3Exception.IncompleteBody());
        }

        return After(buffer.Span[..n]);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _digests.Dispose();
        }

        base.Dispose(disposing);
    }

    private int? Before(int count)
    {
        if (_failure is not null)
        {
            throw _failure;
        }

        return _done ? 0 : count == 0 ? 0 : null;
    }

    private int After(ReadOnlySpan<byte> data)
    {
        if (data.Length > 0)
        {
            _read += data.Length;
            if (_read > _length)
            {
                throw Fail(S3Exception.InvalidRequest("The body is longer than its Content-Length."));
            }

            _digests.Append(data);
            return data.Length;
        }

        if (_read < _length)
        {
            throw Fail(S3Exception.IncompleteBody());
        }

        try
        {
            _digests.Verify();
        }
        catch (S3Exception e)
        {
            throw Fail(e);
        }

        _done = true;
        return 0;
    }

    private S3Exception Fail(S3Exception failure)
    {
        _failure = failure;
        return failure;
    }
}
