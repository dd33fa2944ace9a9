using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using Blueprint.Storage.S3;
using Microsoft.AspNetCore.Http;

namespace Blueprint.Storage.Auth;

/// <summary>
/// One S3 additional checksum (<c>x-amz-checksum-crc32</c>, <c>-crc32c</c>, <c>-crc64nvme</c>, <c>-sha1</c>,
/// <c>-sha256</c>) computed over the decoded body; S3 sends it as base64 of the big-endian value.
/// </summary>
internal sealed class PayloadChecksum : IDisposable
{
    private readonly NonCryptographicHashAlgorithm? _crc;
    private readonly IncrementalHash? _hash;

    private PayloadChecksum(string name, NonCryptographicHashAlgorithm? crc, IncrementalHash? hash)
    {
        Name = name;
        _crc = crc;
        _hash = hash;
    }

    /// <summary>The header (or trailer) name, lowercase.</summary>
    public string Name { get; }

    /// <summary>The value the client declared, base64; null until known (a trailer arrives at the end).</summary>
    public string? Expected { get; set; }

    /// <summary>The checksum for a header name; null when the name is not one S3 defines (or this build cannot compute).</summary>
    public static PayloadChecksum? Create(string name) => name switch
    {
        "x-amz-checksum-crc32" => new PayloadChecksum(name, new Crc32(), null),
        "x-amz-checksum-crc32c" => new PayloadChecksum(name, new Crc32(Crc32ParameterSet.Crc32C), null),
        "x-amz-checksum-crc64nvme" => new PayloadChecksum(name, new Crc64(Crc64ParameterSet.Nvme), null),
        "x-amz-checksum-sha1" => new PayloadChecksum(name, null, IncrementalHash.CreateHash(HashAlgorithmName.SHA1)),
        "x-amz-checksum-sha256" => new PayloadChecksum(name, null, IncrementalHash.CreateHash(HashAlgorithmName.SHA256)),
        _ => null,
    };

    /// <summary>The header names S3 defines for whole-body checksums.</summary>
    public static readonly string[] HeaderNames = ["x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme", "x-amz-checksum-sha1", "x-amz-checksum-sha256"];

    public void Append(ReadOnlySpan<byte> data)
    {
        _crc?.Append(data);
        _hash?.AppendData(data);
    }

    /// <summary>The computed value, base64 (what the client should have sent).</summary>
    public string Compute()
    {
        Span<byte> value = stackalloc byte[32];
        return Convert.ToBase64String(value[..ComputeRaw(value)]);
    }

    /// <summary>Throws <c>InvalidDigest</c> when the declared value is not base64 of the right length, <c>BadDigest</c> when it differs.</summary>
    public void Verify()
    {
        Span<byte> computed = stackalloc byte[32];
        int length = ComputeRaw(computed);
        Span<byte> declared = stackalloc byte[48];
        if (!Convert.TryFromBase64String((Expected ?? "").Trim(), declared, out int written) || written != length)
        {
            throw S3Exception.InvalidDigest();
        }

        if (!CryptographicOperations.FixedTimeEquals(computed[..length], declared[..length]))
        {
            throw S3Exception.BadDigest();
        }
    }

    private int ComputeRaw(Span<byte> value)
    {
        switch (_crc)
        {
            case Crc32 crc32:
                BinaryPrimitives.WriteUInt32BigEndian(value, crc32.GetCurrentHashAsUInt32());
                return 4;
            case Crc64 crc64:
                BinaryPrimitives.WriteUInt64BigEndian(value, crc64.GetCurrentHashAsUInt64());
                return 8;
            default:
                return _hash!.GetCurrentHash(value);
        }
    }

    public void Dispose()
    {
        _hash?.Dispose();
    }
}

/// <summary>
/// The digests a body is checked against when its end is reached: the hex <c>x-amz-content-sha256</c>, a
/// <c>Content-MD5</c>, <c>x-amz-checksum-*</c> headers and the <c>x-amz-checksum-*</c> trailers named in
/// <c>x-amz-trailer</c>.
/// </summary>
internal sealed class PayloadDigests : IDisposable
{
    private readonly IncrementalHash? _sha256;
    private readonly byte[]? _sha256Expected;
    private readonly IncrementalHash? _md5;
    private readonly byte[]? _md5Expected;
    private readonly List<PayloadChecksum> _checksums = [];

    private PayloadDigests(string? contentSha256, string? contentMd5)
    {
        if (contentSha256 is not null)
        {
            _sha256Expected = Convert.FromHexString(contentSha256);
            _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        }

        if (!string.IsNullOrEmpty(contentMd5))
        {
            _md5Expected = new byte[16];
            if (!Convert.TryFromBase64String(contentMd5.Trim(), _md5Expected, out int written) || written != 16)
            {
                throw S3Exception.InvalidDigest();
            }

            _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        }
    }

    /// <summary>Whether there is anything to check.</summary>
    public bool IsEmpty => _sha256 is null && _md5 is null && _checksums.Count == 0;

    /// <summary>The checksums of the body: each with the declared value (after the trailers, for trailer ones).</summary>
    public IReadOnlyList<PayloadChecksum> Checksums => _checksums;

    /// <summary>The digests a request declares; <paramref name="trailers"/> reads <c>x-amz-trailer</c> too.</summary>
    public static PayloadDigests For(HttpRequest request, string? contentSha256Hex, bool trailers)
    {
        var digests = new PayloadDigests(contentSha256Hex, request.Headers.ContentMD5.ToString());
        try
        {
            foreach (string name in PayloadChecksum.HeaderNames)
            {
                string value = request.Headers[name].ToString();
                if (value.Length > 0)
                {
                    PayloadChecksum checksum = PayloadChecksum.Create(name)!;
                    checksum.Expected = value;
                    digests._checksums.Add(checksum);
                }
            }

            if (trailers)
            {
                foreach (string entry in request.Headers["x-amz-trailer"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    string name = entry.ToLowerInvariant();
                    if (!name.StartsWith("x-amz-checksum-", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    PayloadChecksum checksum = PayloadChecksum.Create(name)
                        ?? throw S3Exception.InvalidRequest($"The checksum trailer '{name}' is not supported; use crc32, crc32c, crc64nvme, sha1 or sha256.");
                    if (digests.Find(name) is not null)
                    {
                        checksum.Dispose();
                        throw S3Exception.InvalidRequest($"The checksum '{name}' is declared twice.");
                    }

                    digests._checksums.Add(checksum);
                }
            }

            return digests;
        }
        catch
        {
            digests.Dispose();
            throw;
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        _sha256?.AppendData(data);
        _md5?.AppendData(data);
        foreach (PayloadChecksum checksum in _checksums)
        {
            checksum.Append(data);
        }
    }

    /// <summary>Records a trailer; a checksum trailer must have been declared in <c>x-amz-trailer</c>.</summary>
    public void SetTrailer(string name, string value)
    {
        if (!name.StartsWith("x-amz-checksum-", StringComparison.Ordinal))
        {
            return;
        }

        PayloadChecksum checksum = Find(name) ?? throw S3Exception.InvalidRequest($"The trailer '{name}' was not declared in x-amz-trailer.");
        checksum.Expected = value;
    }

    /// <summary>Checks every digest; throws the S3 error of the first that does not hold.</summary>
    public void Verify()
    {
        Span<byte> hash = stackalloc byte[32];
        if (_sha256 is not null)
        {
            _sha256.GetHashAndReset(hash);
            if (!CryptographicOperations.FixedTimeEquals(hash, _sha256Expected))
            {
                throw S3Exception.ContentSha256Mismatch();
            }
        }

        if (_md5 is not null)
        {
            _md5.GetHashAndReset(hash);
            if (!CryptographicOperations.FixedTimeEquals(hash[..16], _md5Expected))
            {
                throw S3Exception.BadDigest();
            }
        }

        foreach (PayloadChecksum checksum in _checksums)
        {
            if (checksum.Expected is null)
            {
                throw S3Exception.IncompleteBody($"The trailer '{checksum.Name}' declared in x-amz-trailer was not sent.");
            }

            checksum.Verify();
        }
    }

    public void Dispose()
    {
        _sha256?.Dispose();
        _md5?.Dispose();
        foreach (PayloadChecksum checksum in _checksums)
        {
            checksum.Dispose();
        }
    }

    private PayloadChecksum? Find(string name)
    {
        foreach (PayloadChecksum checksum in _checksums)
        {
            if (checksum.Name == name)
            {
                return checksum;
            }
        }

        return null;
    }
}
