using Xunit;

namespace Blueprint.Testing;

/// <summary>
/// Finds the binary of a Debian peer (redis-server, redis-cli, etcd…). When it is missing the test
/// is skipped with the reason — unless <c>BLUEPRINT_REQUIRE_PEERS=1</c> (set by CI), where a
/// missing peer is a failure, so CI never passes by skipping.
/// </summary>
public static class Peers
{
    /// <summary>The environment variable that turns a missing peer into a failure.</summary>
    public const string RequireVariable = "BLUEPRINT_REQUIRE_PEERS";

    private static readonly string[] SearchPath =
        [.. (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries), "/usr/sbin", "/usr/bin", "/usr/local/bin"];

    /// <summary>The full path of <paramref name="binary"/>, or null.</summary>
    public static string? Find(string binary) =>
        SearchPath.Select(directory => Path.Combine(directory, binary)).FirstOrDefault(File.Exists);

    /// <summary>The full path of <paramref name="binary"/>; skips (or, in CI, fails) the test when it is absent.</summary>
    /// <param name="binary">The executable name.</param>
    /// <param name="package">The Debian package that provides it.</param>
    public static string Require(string binary, string package)
    {
        if (Find(binary) is { } path)
        {
            return path;
        }

        var reason = $"{binary} is not installed (apt-get install {package})";
        if (Environment.GetEnvironmentVariable(RequireVariable) == "1")
        {
            Assert.Fail($"{reason}, and {RequireVariable}=1 requires every peer");
        }

        Assert.Skip(reason);
        return "";
    }
}
