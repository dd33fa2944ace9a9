using System.Net;
using System.Text;

namespace Blueprint.Storage.S3;

/// <summary>S3's rules for bucket names and object keys, and the request target split into them.</summary>
internal static class S3Names
{
    /// <summary>The longest key, in UTF-8 bytes.</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>Checks a bucket name by S3's general-purpose bucket rules; throws InvalidBucketName naming the rule broken.</summary>
    public static void CheckBucket(string name)
    {
        static S3Exception Bad(string name, string reason) => S3Exception.InvalidBucketName(name, reason);
        if (name.Length is < 3 or > 63)
        {
            throw Bad(name, "a bucket name must be 3 to 63 characters long");
        }

        foreach (var c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-'))
            {
                throw Bad(name, "a bucket name may hold only lower-case letters, digits, dots and hyphens");
            }
        }

        if (!char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]))
        {
            throw Bad(name, "a bucket name must begin and end with a letter or digit");
        }

        if (name.Contains("..", StringComparison.Ordinal))
        {
            throw Bad(name, "a bucket name must not hold two adjacent dots");
        }

        if (IPAddress.TryParse(name, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            throw Bad(name, "a bucket name must not be formatted as an IP address");
        }

        if (name.StartsWith("xn--", StringComparison.Ordinal) || name.EndsWith("-s3alias", StringComparison.Ordinal))
        {
            throw Bad(name, "a bucket name must not begin with xn-- or end with -s3alias");
        }
    }

    /// <summary>Checks an object key: 1 to 1024 UTF-8 bytes, no NUL.</summary>
    public static void CheckKey(string key)
    {
        if (key.Length == 0)
        {
            throw S3Exception.InvalidArgument("The object key must not be empty.");
        }

        if (Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
        {
            throw S3Exception.KeyTooLong();
        }

        if (key.Contains('\0', StringComparison.Ordinal))
        {
            throw S3Exception.InvalidArgument("The object key must not contain NUL.");
        }
    }

    /// <summary>
    /// Splits a path-style target's path (as the client sent it, percent-encoded) into the bucket and the key (decoded
    /// as UTF-8, with <c>%2F</c> and <c>/</c> alike). Both are empty for <c>/</c>; the key is empty for <c>/bucket</c>.
    /// </summary>
    public static (string Bucket, string Key) Split(string rawPath)
    {
        var path = rawPath.AsSpan();
        if (path.Length > 0 && path[0] == '/')
        {
            path = path[1..];
        }

        var slash = path.IndexOf('/');
        if (slash < 0)
        {
            return (Decode(path.ToString()), "");
        }

        return (Decode(path[..slash].ToString()), Decode(path[(slash + 1)..].ToString()));
    }

    /// <summary>Decodes percent-escapes as UTF-8 (a '+' stays a '+' in a path).</summary>
    public static string Decode(string text) => text.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(text) : text;

    /// <summary>Encodes a key for <c>encoding-type=url</c> responses (RFC 3986 unreserved characters and '/' kept).</summary>
    public static string UrlEncode(string text)
    {
        var builder = new StringBuilder(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || rune.Value is '-' or '.' or '_' or '~' or '/'))
            {
                builder.Append((char)rune.Value);
                continue;
            }

            var length = rune.EncodeToUtf8(utf8);
            for (var i = 0; i < length; i++)
            {
                builder.Append('%').Append(utf8[i].ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}
