using System.Globalization;

namespace Blueprint.Storage.S3;

/// <summary>A single byte range (<c>bytes=a-b</c>, <c>bytes=a-</c>, <c>bytes=-n</c>), as S3 serves: one range per request.</summary>
internal static class Ranges
{
    /// <summary>
    /// False when the header is not a single byte range (S3 then ignores it and serves the whole object). When it is one,
    /// <paramref name="satisfiable"/> says whether it overlaps the object; <paramref name="start"/> and <paramref name="end"/> are inclusive.
    /// </summary>
    public static bool TryParse(string header, long size, out long start, out long end, out bool satisfiable)
    {
        start = end = 0;
        satisfiable = false;
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var spec = header.AsSpan(6).Trim();
        var dash = spec.IndexOf('-');
        if (dash < 0 || spec.Contains(','))
        {
            return false;
        }

        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.IsEmpty)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix))
            {
                return false;
            }

            satisfiable = suffix > 0 && size > 0;
            start = Math.Max(0, size - suffix);
            end = size - 1;
            return true;
        }

        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out start))
        {
            return false;
        }

        if (last.IsEmpty)
        {
            end = size - 1;
        }
        else if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out end) || end < start)
        {
            return false;
        }

        end = Math.Min(end, size - 1);
        satisfiable = start < size;
        return true;
    }
}
