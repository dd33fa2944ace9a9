using System.Globalization;

namespace Blueprint.NotifyLoad;

/// <summary>A message of the run: <c>SEQUENCE SENT</c>, its sequence number and its <see cref="System.Diagnostics.Stopwatch"/> send time.</summary>
internal static class Message
{
    /// <summary>The message's text.</summary>
    public static string Format(long sequence, long sent) =>
        string.Create(CultureInfo.InvariantCulture, $"{sequence} {sent}");

    /// <summary>Reads a message's text.</summary>
    public static bool TryParse(string text, out long sequence, out long sent)
    {
        sent = 0;
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        sequence = 0;
        return space > 0
            && long.TryParse(text.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out sequence)
            && long.TryParse(text.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out sent);
    }
}
