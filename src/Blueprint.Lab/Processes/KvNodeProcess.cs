using System.Globalization;

namespace Blueprint.Lab.Processes;

/// <summary>
/// A <c>blueprint run --modules kv</c> node (embedded Garnet) as a child process on free loopback ports with a
/// temporary data directory and no persistence, killed by its PID and its directory deleted on dispose. The lab
/// references no module, so it reaches the engine as any client would: over RESP.
/// </summary>
internal sealed class KvNodeProcess : IDisposable
{
    /// <summary>How long the node may take to listen.</summary>
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    private readonly ChildProcess _process;
    private readonly ScratchDirectory _directory;

    private KvNodeProcess(ChildProcess process, ScratchDirectory directory, int respPort)
    {
        _process = process;
        _directory = directory;
        RespPort = respPort;
    }

    /// <summary>Gets the RESP port on 127.0.0.1.</summary>
    public int RespPort { get; }

    /// <summary>Gets the RESP endpoint as <c>host:port</c>.</summary>
    public string Endpoint => $"127.0.0.1:{RespPort.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Starts a node with the kv module only.</summary>
    /// <exception cref="LabPrerequisiteException">The executable is unknown, or the node did not listen in time.</exception>
    public static async Task<KvNodeProcess> StartAsync(LabEnvironment environment, CancellationToken cancellationToken)
    {
        NodeCommand node = environment.Node
            ?? throw new LabPrerequisiteException("this experiment runs a Blueprint node and the blueprint executable was not found; run it as 'blueprint lab'");
        ScratchDirectory directory = new("blueprint-lab-kv");
        int respPort = LoopbackPorts.Next();
        string[] arguments =
        [
            .. node.LeadingArguments,
            "run",
            "--modules", "kv",
            "--resp-port", respPort.ToString(CultureInfo.InvariantCulture),
            "--http-port", LoopbackPorts.Next().ToString(CultureInfo.InvariantCulture),
            "--data-dir", Path.Combine(directory.Path, "data"),
        ];
        Dictionary<string, string> variables = new()
        {
            ["BLUEPRINT_Kv__Persistence"] = "false",
            [LabEnvironment.ExitWithParentVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
        };
        ChildProcess? process = null;
        try
        {
            process = ChildProcess.Start("the blueprint node", node.FileName, arguments, variables, directory.Path);
            await process.WaitForPortAsync(respPort, StartDeadline, cancellationToken).ConfigureAwait(false);
            return new KvNodeProcess(process, directory, respPort);
        }
        catch
        {
            process?.Dispose();
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Kills the node by its PID and deletes its data directory.</summary>
    public void Dispose()
    {
        _process.Dispose();
        _directory.Dispose();
    }
}
