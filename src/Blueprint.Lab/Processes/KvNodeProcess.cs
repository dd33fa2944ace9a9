using System.Globalization;

namespace Blueprint.Lab.Processes;

/// <summary>
/// A <c>blueprint run</c> node with the kv module (embedded Garnet) and any modules beside it, as a child process on free
/// loopback ports with a temporary data directory, killed by its PID and its directory deleted on dispose. The lab
/// references no module, so it reaches them as any client would: over RESP and HTTP.
/// </summary>
internal sealed class KvNodeProcess : IDisposable
{
    /// <summary>How long the node may take to listen.</summary>
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    private readonly ChildProcess _process;
    private readonly ScratchDirectory _directory;

    private KvNodeProcess(ChildProcess process, ScratchDirectory directory, int respPort, int httpPort)
    {
        _process = process;
        _directory = directory;
        RespPort = respPort;
        HttpPort = httpPort;
    }

    /// <summary>Gets the RESP port on 127.0.0.1.</summary>
    public int RespPort { get; }

    /// <summary>Gets the HTTP port on 127.0.0.1.</summary>
    public int HttpPort { get; }

    /// <summary>Gets the node's SQLite database (the sql module's default file), when it runs the sql module.</summary>
    public string SqlitePath => Path.Combine(_directory.Path, "data", "sql", "blueprint.db");

    /// <summary>Gets a directory for the experiment's own files, deleted with the node's.</summary>
    public string ScratchPath => _directory.Subdirectory("lab");

    /// <summary>Gets the RESP endpoint as <c>host:port</c>.</summary>
    public string Endpoint => $"127.0.0.1:{RespPort.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Starts a node with the kv module only and no persistence.</summary>
    /// <exception cref="LabPrerequisiteException">The executable is unknown, or the node did not listen in time.</exception>
    public static Task<KvNodeProcess> StartAsync(LabEnvironment environment, CancellationToken cancellationToken) =>
        StartAsync(environment, "kv", new Dictionary<string, string> { ["BLUEPRINT_Kv__Persistence"] = "false" }, cancellationToken);

    /// <summary>Starts a node with <paramref name="modules"/> (kv among them) and the environment's <paramref name="settings"/>.</summary>
    /// <exception cref="LabPrerequisiteException">The executable is unknown, or the node did not listen in time.</exception>
    public static async Task<KvNodeProcess> StartAsync(LabEnvironment environment, string modules, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        NodeCommand node = environment.Node
            ?? throw new LabPrerequisiteException("this experiment runs a Blueprint node and the blueprint executable was not found; run it as 'blueprint lab'");
        ScratchDirectory directory = new("blueprint-lab-kv");
        int respPort = LoopbackPorts.Next();
        int httpPort = LoopbackPorts.Next();
        string[] arguments =
        [
            .. node.LeadingArguments,
            "run",
            "--modules", modules,
            "--resp-port", respPort.ToString(CultureInfo.InvariantCulture),
            "--http-port", httpPort.ToString(CultureInfo.InvariantCulture),
            "--data-dir", Path.Combine(directory.Path, "data"),
        ];
        Dictionary<string, string> variables = new(settings)
        {
            [LabEnvironment.ExitWithParentVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
        };
        ChildProcess? process = null;
        try
        {
            process = ChildProcess.Start("the blueprint node", node.FileName, arguments, variables, directory.Path);
            // The HTTP port opens after every module has started (a module's tables exist by then).
            await process.WaitForPortAsync(httpPort, StartDeadline, cancellationToken).ConfigureAwait(false);
            return new KvNodeProcess(process, directory, respPort, httpPort);
        }
        catch
        {
            process?.Dispose();
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Kills the node with SIGKILL, as a crash would, and waits for it to be gone.</summary>
    public void Crash() => _process.Kill();

    /// <summary>Kills the node by its PID and deletes its data directory.</summary>
    public void Dispose()
    {
        _process.Dispose();
        _directory.Dispose();
    }
}
