using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Blueprint.Storage.Auth;

/// <summary>The pieces of SigV4 shared by the request verifier and the payload reader: names, encoding, hashing.</summary>
internal static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public const string Service = "s3";
    public const string Terminator = "aws4_request";
    public const string UnsignedPayload = "UNSIGNED-PAYLOAD";
    public const string StreamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    public const string StreamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
    public const string StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
    public const string TimestampFormat = "yyyyMMdd'T'HHmmss'Z'";

    /// <summary>The SHA-256 of nothing, lowercase hex.</summary>
    public const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>The longest presigned URL lifetime S3 accepts: seven days.</summary>
    public const int MaxExpiresSeconds = 604800;

    private const string UpperHex = "0123456789ABCDEF";

    /// <summary>Whether <paramref name="value"/> is 64 hex digits (a SHA-256 or a signature).</summary>
    public static bool IsSha256Hex(ReadOnlySpan<char> value)
    {
        if (value.Length != 64)
        {
            return false;
        }

        foreach (char c in value)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses 64 hex digits into 32 bytes; false when they are not.</summary>
    public static bool TryParseSha256Hex(ReadOnlySpan<char> hex, Span<byte> bytes) =>
        IsSha256Hex(hex) && Convert.FromHexString(hex, bytes, out _, out int written) == OperationStatus.Done && written == 32;

    /// <summary>Parses 64 hex digits (ASCII bytes) into 32 bytes; false when they are not.</summary>
    public static bool TryParseSha256Hex(ReadOnlySpan<byte> hex, Span<byte> bytes)
    {
        if (hex.Length != 64)
        {
            return false;
        }

        Span<char> chars = stackalloc char[64];
        for (int i = 0; i < 64; i++)
        {
            chars[i] = (char)hex[i];
        }

        return TryParseSha256Hex(chars, bytes);
    }

    /// <summary>Writes <paramref name="bytes"/> as lowercase hex ASCII into <paramref name="destination"/> (twice as long).</summary>
    public static void WriteLowerHex(ReadOnlySpan<byte> bytes, Span<byte> destination)
    {
        const string LowerHex = "0123456789abcdef";
        for (int i = 0; i < bytes.Length; i++)
        {
            destination[2 * i] = (byte)LowerHex[bytes[i] >> 4];
            destination[(2 * i) + 1] = (byte)LowerHex[bytes[i] & 0xF];
        }
    }

    /// <summary>The SigV4 signing key: HMAC chain of <c>"AWS4" + secret</c>, date, region, service, <c>aws4_request</c>.</summary>
    public static byte[] DeriveSigningKey(string secret, string date, string region, string service)
    {
        byte[] kSecret = Encoding.UTF8.GetBytes("AWS4" + secret);
        Span<byte> key = stackalloc byte[32];
        HMACSHA256.HashData(kSecret, Encoding.UTF8.GetBytes(date), key);
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region), key);
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service), key);
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(Terminator), key);
        CryptographicOperations.ZeroMemory(kSecret);
        return key.ToArray();
    }

    /// <summary>
    /// Appends <paramref name="raw"/> (as it came on the wire) to <paramref name="builder"/> decoded once and encoded
    /// per RFC 3986 as SigV4 wants it: unreserved characters as they are, every other byte of the UTF-8 as <c>%XX</c>
    /// (uppercase). With <paramref name="keepSlash"/> (a path) a literal '/' stays a separator, while an escaped one
    /// (<c>%2F</c>, part of a key) stays escaped. With <paramref name="plusIsSpace"/> (a query) a literal '+' is a
    /// space, as ASP.NET Core reads the query, so the signature covers the value the endpoint sees.
    /// </summary>
    public static void AppendUriEncoded(StringBuilder builder, ReadOnlySpan<char> raw, bool keepSlash, bool plusIsSpace)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < raw.Length; i++)
        {
            char c = raw[i];
            if (c == '%' && i + 2 < raw.Length && char.IsAsciiHexDigit(raw[i + 1]) && char.IsAsciiHexDigit(raw[i + 2]))
            {
                AppendEncodedByte(builder, (byte)((HexValue(raw[i + 1]) << 4) | HexValue(raw[i + 2])));
                i += 2;
            }
            else if (c == '/' && keepSlash)
            {
                builder.Append('/');
            }
            else if (c == '+' && plusIsSpace)
            {
                AppendEncodedByte(builder, (byte)' ');
            }
            else if (c < 0x80)
            {
                AppendEncodedByte(builder, (byte)c);
            }
            else
            {
                int length = char.IsHighSurrogate(c) && i + 1 < raw.Length && char.IsLowSurrogate(raw[i + 1]) ? 2 : 1;
                int count = Encoding.UTF8.GetBytes(raw.Slice(i, length), utf8);
                for (int b = 0; b < count; b++)
                {
                    AppendEncodedByte(builder, utf8[b]);
                }

                i += length - 1;
            }
        }
    }

    /// <summary>The URI-encoded (per <see cref="AppendUriEncoded"/>) form of <paramref name="raw"/>.</summary>
    public static string UriEncode(ReadOnlySpan<char> raw, bool keepSlash, bool plusIsSpace)
    {
        var builder = new StringBuilder(raw.Length + 16);
        AppendUriEncoded(builder, raw, keepSlash, plusIsSpace);
        return builder.ToString();
    }

    /// <summary>Appends a header value as SigV4 canonicalizes it: trimmed, inner runs of spaces and tabs made one space.</summary>
    public static void AppendTrimmed(StringBuilder builder, ReadOnlySpan<char> value)
    {
        value = value.Trim(" \t");
        bool inSpace = false;
        foreach (char c in value)
        {
            if (c is ' ' or '\t')
            {
                inSpace = true;
                continue;
            }

            if (inSpace)
            {
                builder.Append(' ');
                inSpace = false;
            }

            builder.Append(c);
        }
    }

    /// <summary>SHA-256 of the UTF-8 of <paramref name="text"/>, streamed from the builder's chunks.</summary>
    public static void Sha256Utf8(StringBuilder text, Span<byte> hash)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            Encoder encoder = Encoding.UTF8.GetEncoder();
            foreach (ReadOnlyMemory<char> chunk in text.GetChunks())
            {
                ReadOnlySpan<char> chars = chunk.Span;
                while (!chars.IsEmpty)
                {
                    encoder.Convert(chars, buffer, flush: false, out int used, out int written, out _);
                    sha.AppendData(buffer, 0, written);
                    chars = chars[used..];
                }
            }

            encoder.Convert([], buffer, flush: true, out _, out int tail, out _);
            sha.AppendData(buffer, 0, tail);
            sha.GetHashAndReset(hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>HMAC-SHA256 of the UTF-8 of <paramref name="text"/> with <paramref name="key"/>.</summary>
    public static void HmacUtf8(ReadOnlySpan<byte> key, ReadOnlySpan<char> text, Span<byte> mac)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        Span<byte> bytes = max <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int count = Encoding.UTF8.GetBytes(text, bytes);
            HMACSHA256.HashData(key, bytes[..count], mac);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static void AppendEncodedByte(StringBuilder builder, byte b)
    {
        if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
        {
            builder.Append((char)b);
        }
        else
        {
            builder.Append('%').Append(UpperHex[b >> 4]).Append(UpperHex[b & 0xF]);
        }
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
