using System.Globalization;

namespace Blueprint.Bench;

/// <summary>Values of a load tool's flags, each problem added to the list its parser reports at once.</summary>
internal static class Flags
{
    /// <summary>The command line as <c>--flag value</c> pairs; a flag without its value is a problem, and ends them.</summary>
    public static IEnumerable<(string Flag, string Value)> Pairs(string[] args, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(problems);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
            {
                problems.Add($"{args[i]} needs a value");
                yield break;
            }

            yield return (args[i], args[i + 1]);
        }
    }

    /// <summary>A <c>host:port</c> pair, or null when <paramref name="value"/> is not one.</summary>
    public static (string Host, int Port)? HostPort(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var colon = value.LastIndexOf(':');
        return colon > 0 && int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65_535
            ? (value[..colon], port)
            : null;
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>; otherwise a problem, and <paramref name="min"/>.</summary>
    public static int Number(string flag, string value, int min, int max, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max)
        {
            return number;
        }

        problems.Add($"{flag} must be a whole number from {min} to {max}, got '{value}'");
        return min;
    }
}
