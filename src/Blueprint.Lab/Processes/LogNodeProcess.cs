using System.Globalization;

namespace Blueprint.Lab.Processes;

/// <summary>
/// A <c>blueprint run --modules log</c> node as a child process on free loopback ports with a temporary data directory,
/// killed by its PID and its directory deleted on dispose. The lab references no module, so it drives the log as a
/// client would: over the Kafka wire protocol.
/// </summary>
internal sealed class LogNodeProcess : IDisposable
{
    /// <summary>How long the node may take to listen.</summary>
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    private readonly ChildProcess _process;
    private readonly ScratchDirectory _directory;

    private LogNodeProcess(ChildProcess process, ScratchDirectory directory, int kafkaPort)
    {
        _process = process;
        _directory = directory;
        KafkaPort = kafkaPort;
    }

    /// <summary>Gets the Kafka port on 127.0.0.1.</summary>
    public int KafkaPort { get; }

    /// <summary>Gets the Kafka bootstrap address.</summary>
    public string Bootstrap => $"127.0.0.1:{KafkaPort.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Gets the directory of the log's topics (one subdirectory per partition).</summary>
    public string TopicsDirectory => Path.Combine(_directory.Path, "data", "log", "topics");

    /// <summary>
    /// Starts a node with the log module only, fsync per batch (its default: a produce is acknowledged after an fsync
    /// covering it) and no initial rebalance delay, so consumer groups form at once.
    /// </summary>
    /// <exception cref="LabPrerequisiteException">The executable is unknown, or the node did not listen in time.</exception>
    public static async Task<LogNodeProcess> StartAsync(LabEnvironment environment, CancellationToken cancellationToken)
    {
        NodeCommand node = environment.Node
            ?? throw new LabPrerequisiteException("this experiment runs a Blueprint node and the blueprint executable was not found; run it as 'blueprint lab'");
        ScratchDirectory directory = new("blueprint-lab-log");
        int kafkaPort = LoopbackPorts.Next();
        string[] arguments =
        [
            .. node.LeadingArguments,
            "run",
            "--modules", "log",
            "--kafka-port", kafkaPort.ToString(CultureInfo.InvariantCulture),
            "--http-port", LoopbackPorts.Next().ToString(CultureInfo.InvariantCulture),
            "--data-dir", Path.Combine(directory.Path, "data"),
        ];
        Dictionary<string, string> variables = new()
        {
            ["BLUEPRINT_Log__GroupInitialRebalanceDelayMs"] = "0",
            [LabEnvironment.ExitWithParentVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
        };
        ChildProcess? process = null;
        try
        {
            process = ChildProcess.Start("the blueprint node", node.FileName, arguments, variables, directory.Path);
            await process.WaitForPortAsync(kafkaPort, StartDeadline, cancellationToken).ConfigureAwait(false);
            return new LogNodeProcess(process, directory, kafkaPort);
        }
        catch
        {
            process?.Dispose();
            directory.Dispose();
            throw;
        }
    }

    /// <summary>The bytes of record batches the topic holds on disk (its <c>.log</c> segment files).</summary>
    public long TopicBytes(string topic) =>
        Directory.Exists(TopicsDirectory)
            ? Directory.EnumerateDirectories(TopicsDirectory)
                .Where(partition => Path.GetFileName(partition) is { } name && name.LastIndexOf('-') is var dash and > 0 && name[..dash] == topic)
                .Sum(partition => ScratchDirectory.FileBytes(partition, ".log"))
            : 0;

    /// <summary>Kills the node by its PID and deletes its data.</summary>
    public void Dispose()
    {
        _process.Dispose();
        _directory.Dispose();
    }
}
