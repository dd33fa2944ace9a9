using System.Globalization;

namespace Blueprint.Lab.Processes;

/// <summary>
/// A <c>blueprint run --modules log,notify</c> node as a child process on free loopback ports with a temporary data
/// directory (the SMTP sink off), killed by its PID and its directory deleted on dispose. The lab drives it as a client
/// would: over its SNS-compatible API.
/// </summary>
internal sealed class NotifyNodeProcess : IDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    private readonly ChildProcess _process;
    private readonly ScratchDirectory _directory;

    private NotifyNodeProcess(ChildProcess process, ScratchDirectory directory, int snsPort)
    {
        _process = process;
        _directory = directory;
        SnsPort = snsPort;
    }

    /// <summary>Gets the SNS API's port on 127.0.0.1.</summary>
    public int SnsPort { get; }

    /// <summary>Gets the SNS API's address.</summary>
    public Uri SnsAddress => new($"http://127.0.0.1:{SnsPort.ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>Starts the node and waits until its SNS API listens.</summary>
    /// <exception cref="LabPrerequisiteException">The executable is unknown, or the node did not listen in time.</exception>
    public static async Task<NotifyNodeProcess> StartAsync(LabEnvironment environment, CancellationToken cancellationToken)
    {
        NodeCommand node = environment.Node
            ?? throw new LabPrerequisiteException("this experiment runs a Blueprint node and the blueprint executable was not found; run it as 'blueprint lab'");
        ScratchDirectory directory = new("blueprint-lab-notify");
        int snsPort = LoopbackPorts.Next();
        string[] arguments =
        [
            .. node.LeadingArguments,
            "run",
            "--modules", "log,notify",
            "--sns-port", snsPort.ToString(CultureInfo.InvariantCulture),
            "--mqtt-port", LoopbackPorts.Next().ToString(CultureInfo.InvariantCulture),
            "--smtp-port", "0",
            "--kafka-port", LoopbackPorts.Next().ToString(CultureInfo.InvariantCulture),
            "--http-port", LoopbackPorts.Next().ToString(CultureInfo.InvariantCulture),
            "--data-dir", Path.Combine(directory.Path, "data"),
        ];
        Dictionary<string, string> variables = new()
        {
            [LabEnvironment.ExitWithParentVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
        };
        ChildProcess? process = null;
        try
        {
            process = ChildProcess.Start("the blueprint node", node.FileName, arguments, variables, directory.Path);
            await process.WaitForPortAsync(snsPort, StartDeadline, cancellationToken).ConfigureAwait(false);
            return new NotifyNodeProcess(process, directory, snsPort);
        }
        catch
        {
            process?.Dispose();
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Kills the node by its PID and deletes its data.</summary>
    public void Dispose()
    {
        _process.Dispose();
        _directory.Dispose();
    }
}
