using System.Globalization;

namespace Blueprint.Testing;

/// <summary>
/// Hands out loopback ports that are free now, never the same one twice in a process and never one another test
/// process holds (<c>dotnet test</c> runs test projects as parallel processes). Ports come from below the kernel's
/// ephemeral range, where the tests' own outgoing connections never take them, and each is reserved through
/// a lock file in a temp folder shared by every test process (see <see cref="PortPool"/>).
/// </summary>
public static class FreePorts
{
    /// <summary>The lowest port handed.</summary>
    public const int Lowest = 20_000;

    /// <summary>Where ephemeral ports start when the kernel does not say (the IANA dynamic range, 49152, is above it).</summary>
    public const int EphemeralStartFallback = 32_768;

    /// <summary>Where Linux says its ephemeral (local) port range is: two numbers, first and last.</summary>
    public const string EphemeralRangeFile = "/proc/sys/net/ipv4/ip_local_port_range";

    /// <summary>The pool every test process shares: <see cref="Lowest"/> up to just below the ephemeral range.</summary>
    public static PortPool Pool { get; } = CreatePool();

    /// <summary>A port free on 127.0.0.1 now, not handed out before in this process and held by no other.</summary>
    public static int Next() => Pool.Next();

    /// <summary>
    /// <paramref name="count"/> consecutive loopback ports, each free now, none handed out before in this process
    /// nor held by another, for commands that number their ports from a first one
    /// (<c>blueprint cluster up --etcd-port</c>). Returns the first.
    /// </summary>
    public static int Block(int count) => Pool.Block(count);

    /// <summary>
    /// The ports to hand given the contents of <see cref="EphemeralRangeFile"/> (null when there is none):
    /// <see cref="Lowest"/> up to the ephemeral start − 1; when that leaves fewer than 1 000 ports, the ephemeral
    /// end + 1 up to 65535 if that leaves more; when the contents do not say, up to <see cref="EphemeralStartFallback"/> − 1.
    /// </summary>
    public static (int Lowest, int Highest) RangeOutsideEphemeral(string? ephemeralRange)
    {
        const int PortsInRangeMin = 1_000;
        var fields = (ephemeralRange ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 2
            || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var end)
            || start > end || end > 65_535)
        {
            return (Lowest, EphemeralStartFallback - 1);
        }

        if (start - Lowest >= PortsInRangeMin)
        {
            return (Lowest, start - 1);
        }

        return 65_535 - end >= PortsInRangeMin ? (end + 1, 65_535) : (Lowest, EphemeralStartFallback - 1);
    }

    private static PortPool CreatePool()
    {
        var (lowest, highest) = RangeOutsideEphemeral(File.Exists(EphemeralRangeFile) ? File.ReadAllText(EphemeralRangeFile) : null);
        return new PortPool(lowest, highest, Path.Combine(Path.GetTempPath(), "blueprint-ports"));
    }
}
