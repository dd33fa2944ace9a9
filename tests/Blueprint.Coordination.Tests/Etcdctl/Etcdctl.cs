namespace Blueprint.Coordination.Tests.Etcdctl;

/// <summary>Debian's etcdctl (3.4) against a set of endpoints.</summary>
public static class Etcdctl
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static string Path => Peers.Require("etcdctl", "etcd-client");

    /// <summary>Runs one command to its end and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string endpoints, params string[] arguments) =>
        await RunWithInputAsync(endpoints, stdin: null, arguments);

    /// <summary>Runs one command with <paramref name="stdin"/> as its standard input.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunWithInputAsync(string endpoints, string? stdin, params string[] arguments)
    {
        await using var process = Start(endpoints, arguments);
        if (stdin is not null)
        {
            await process.WriteStandardInputAsync(stdin);
        }

        var exit = await process.WaitForExitAsync(Deadline);
        return (exit, process.StandardOutput, process.StandardError);
    }

    /// <summary>
    /// Runs a command and expects it to succeed; returns its standard output. A command the server answered with a
    /// transient Unavailable (a proposal cut off by a leader change on a saturated machine: etcd's "request timed out",
    /// "leader changed" or "no leader") is run again, at most <see cref="TransientRetries"/> times, as an etcd client's
    /// caller would; the steps run this way are the ones whose repetition changes nothing.
    /// </summary>
    public static async Task<string> OkAsync(string endpoints, params string[] arguments)
    {
        var (exit, output, error) = await RunAsync(endpoints, arguments);
        for (var retry = 0; exit != 0 && retry < TransientRetries && IsTransient(error); retry++)
        {
            (exit, output, error) = await RunAsync(endpoints, arguments);
        }

        Assert.True(exit == 0, $"etcdctl {string.Join(' ', arguments)} exited {exit}: {error}{output}");
        return output;
    }

    private const int TransientRetries = 2;

    private static bool IsTransient(string error) =>
        error.Contains("etcdserver: request timed out", StringComparison.Ordinal)
        || error.Contains("etcdserver: leader changed", StringComparison.Ordinal)
        || error.Contains("etcdserver: no leader", StringComparison.Ordinal);

    /// <summary>Starts a long-running command (watch, lock, elect) the test stops itself.</summary>
    public static ProcessRunner Start(string endpoints, params string[] arguments) =>
        ProcessRunner.Start(Path, ["--endpoints", endpoints, "--dial-timeout", "5s", "--command-timeout", "20s", .. arguments], environment: new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });
}
