using System.Globalization;

namespace Blueprint.Cache.Near;

/// <summary>
/// One invalidation as published on the cache's channel: who wrote (so a writer skips its own), which stream
/// (a partition, or the tag stream) and which sequence of it, and the key or tag to drop.
/// Wire form: <c>source|stream|sequence|k|key</c> or <c>…|t|tag</c>; the key comes last, so it may hold '|'.
/// </summary>
internal readonly record struct Invalidation(string Source, int Stream, long Sequence, bool IsTag, string Target)
{
    /// <summary>The longest message accepted: a key or tag past HybridCache's own key limit is never cached.</summary>
    public const int MessageCharsMax = 4096;

    /// <summary>The wire form.</summary>
    public string Format() =>
        string.Create(CultureInfo.InvariantCulture, $"{Source}|{Stream}|{Sequence}|{(IsTag ? 't' : 'k')}|{Target}");

    /// <summary>Reads the wire form; false for anything malformed.</summary>
    public static bool TryParse(string? text, out Invalidation invalidation)
    {
        invalidation = default;
        if (text is null || text.Length > MessageCharsMax)
        {
            return false;
        }

        var rest = text.AsSpan();
        if (!Next(ref rest, out var source) || !Next(ref rest, out var stream) || !Next(ref rest, out var sequence) || !Next(ref rest, out var kind)
            || !int.TryParse(stream, NumberStyles.None, CultureInfo.InvariantCulture, out var streamNumber)
            || !long.TryParse(sequence, NumberStyles.None, CultureInfo.InvariantCulture, out var sequenceNumber)
            || kind.Length != 1 || (kind[0] != 'k' && kind[0] != 't') || source.IsEmpty || rest.IsEmpty)
        {
            return false;
        }

        invalidation = new Invalidation(source.ToString(), streamNumber, sequenceNumber, kind[0] == 't', rest.ToString());
        return true;
    }

    private static bool Next(ref ReadOnlySpan<char> rest, out ReadOnlySpan<char> field)
    {
        var bar = rest.IndexOf('|');
        if (bar < 0)
        {
            field = default;
            return false;
        }

        field = rest[..bar];
        rest = rest[(bar + 1)..];
        return true;
    }
}
