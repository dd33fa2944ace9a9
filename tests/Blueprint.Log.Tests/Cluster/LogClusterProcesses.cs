using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Blueprint.Log.Tests.Cluster;

/// <summary>
/// Three (or more) brokers as separate <c>blueprint</c> processes on loopback, one metadata quorum, each with its own
/// data directory; a broker can be killed with SIGKILL and started again on the same directory and ports. Short session
/// and lag times keep failovers within seconds.
/// </summary>
internal sealed class LogClusterProcesses : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private readonly TempDirectory root = new("blueprint-log-cluster");
    private readonly ProcessRunner?[] processes;
    private readonly int[] kafkaPorts;
    private readonly int[] raftPorts;
    private readonly int[] httpPorts;
    private readonly Dictionary<string, string> environment;
    private readonly Func<int, IReadOnlyList<int>, string?> dialOverrides;

    private LogClusterProcesses(int count, Func<int, IReadOnlyList<int>, string?> dialOverrides, int replicaLagMs, int sessionTimeoutMs)
    {
        processes = new ProcessRunner?[count];
        kafkaPorts = [.. Enumerable.Range(0, count).Select(_ => FreePorts.Next())];
        raftPorts = [.. Enumerable.Range(0, count).Select(_ => FreePorts.Next())];
        httpPorts = [.. Enumerable.Range(0, count).Select(_ => FreePorts.Next())];
        this.dialOverrides = dialOverrides;
        environment = new Dictionary<string, string>
        {
            ["BLUEPRINT_Log__BrokerSessionTimeoutMs"] = Text(sessionTimeoutMs),
            ["BLUEPRINT_Log__BrokerHeartbeatIntervalMs"] = "200",
            ["BLUEPRINT_Log__ReplicaLagTimeMaxMs"] = Text(replicaLagMs),
            ["BLUEPRINT_Log__RaftTickMs"] = "50",
            ["BLUEPRINT_Log__GroupInitialRebalanceDelayMs"] = "0",
        };
    }

    /// <summary>Every broker's Kafka address, for a client's bootstrap list.</summary>
    public string Bootstrap => string.Join(',', kafkaPorts.Select(port => $"127.0.0.1:{Text(port)}"));

    /// <summary>The Kafka ports by broker id - 1.</summary>
    public IReadOnlyList<int> KafkaPorts => kafkaPorts;

    /// <summary>
    /// Starts <paramref name="count"/> brokers (ids 1..count) and waits until each is up; <paramref name="dialOverrides"/>
    /// gives a broker's Log:ReplicaDialOverrides from its id and every broker's Kafka port.
    /// </summary>
    public static async Task<LogClusterProcesses> StartAsync(int count = 3, Func<int, IReadOnlyList<int>, string?>? dialOverrides = null, int replicaLagMs = 3000, int sessionTimeoutMs = 2000)
    {
        var cluster = new LogClusterProcesses(count, dialOverrides ?? ((_, _) => null), replicaLagMs, sessionTimeoutMs);
        try
        {
            for (var id = 1; id <= count; id++)
            {
                cluster.Launch(id);
            }

            for (var id = 1; id <= count; id++)
            {
                await cluster.WaitStartedAsync(id);
            }

            await cluster.WaitBrokersAsync(count);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL of broker <paramref name="id"/>.</summary>
    public void Kill(int id)
    {
        processes[id - 1]?.Kill();
    }

    /// <summary>SIGTERM of broker <paramref name="id"/>, and waits for it to exit; returns its exit code.</summary>
    public async Task<int> StopAsync(int id)
    {
        var process = processes[id - 1]!;
        process.Terminate();
        return await process.WaitForExitAsync(Deadline);
    }

    /// <summary>Starts broker <paramref name="id"/> again on its directory and ports.</summary>
    public async Task RestartAsync(int id)
    {
        if (processes[id - 1] is { } old)
        {
            await old.DisposeAsync();
        }

        Launch(id);
        await WaitStartedAsync(id);
    }

    /// <summary>The partition's leader, replicas and ISR as broker <paramref name="askId"/> (or any) reports them.</summary>
    public PartitionMetadata Describe(string topic, int partition, int? askId = null)
    {
        var bootstrap = askId is { } id ? $"127.0.0.1:{Text(kafkaPorts[id - 1])}" : Bootstrap;
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap, SocketTimeoutMs = 5000 }).Build();
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(5));
        return metadata.Topics.Single(t => t.Topic == topic).Partitions.Single(p => p.PartitionId == partition);
    }

    /// <summary>Waits until the partition's metadata satisfies <paramref name="accept"/>; returns it.</summary>
    public async Task<PartitionMetadata> WaitForAsync(string topic, int partition, Func<PartitionMetadata, bool> accept, int? askId = null, Func<string>? failure = null) =>
        (await Eventually.ValueAsync(
            () =>
            {
                try
                {
                    return Task.FromResult<PartitionMetadata?>(Describe(topic, partition, askId));
                }
                catch (KafkaException)
                {
                    return Task.FromResult<PartitionMetadata?>(null);
                }
                catch (InvalidOperationException)
                {
                    return Task.FromResult<PartitionMetadata?>(null);
                }
            },
            found => found is not null && accept(found),
            Deadline,
            found => (found is null ? "no metadata" : $"leader {found.Leader}, replicas [{string.Join(",", found.Replicas)}], isr [{string.Join(",", found.InSyncReplicas)}], error {found.Error.Code}") + (failure is null ? "" : "\n" + failure())))!;

    /// <summary>Waits until the brokers have registered with the metadata quorum and are listed.</summary>
    public Task WaitBrokersAsync(int count) =>
        Eventually.TrueAsync(
            () =>
            {
                try
                {
                    using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Bootstrap, SocketTimeoutMs = 5000 }).Build();
                    return admin.GetMetadata(TimeSpan.FromSeconds(5)).Brokers.Count == count;
                }
                catch (KafkaException)
                {
                    return false;
                }
            },
            Deadline,
            () => $"fewer than {count} brokers are listed");

    /// <summary>Creates a topic through any broker.</summary>
    public async Task CreateTopicAsync(string name, int partitions, short replicationFactor, Dictionary<string, string>? configs = null)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = replicationFactor, Configs = configs }]);
    }

    /// <summary>A broker's output so far, for failure messages.</summary>
    public string Output(int id) => processes[id - 1] is { } process ? process.StandardOutput[^Math.Min(process.StandardOutput.Length, 4000)..] : "";

    public async ValueTask DisposeAsync()
    {
        foreach (var process in processes)
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
        }

        root.Dispose();
    }

    private void Launch(int id)
    {
        var voters = string.Join(',', Enumerable.Range(1, processes.Length).Select(i => $"{Text(i)}@127.0.0.1:{Text(raftPorts[i - 1])}"));
        var directory = Path.Combine(root.Path, $"broker-{Text(id)}");
        Directory.CreateDirectory(directory);
        List<string> arguments =
        [
            "run", "--modules", "log", "--data-dir", directory,
            "--kafka-port", Text(kafkaPorts[id - 1]), "--http-port", Text(httpPorts[id - 1]), "--log-raft-port", Text(raftPorts[id - 1]),
            "--broker-id", Text(id), "--controller-quorum-voters", voters,
        ];
        var env = new Dictionary<string, string>(environment);
        if (dialOverrides(id, kafkaPorts) is { } dial)
        {
            env["BLUEPRINT_Log__ReplicaDialOverrides"] = dial;
        }

        processes[id - 1] = NodeProcess.Start(arguments, directory, env);
    }

    private Task WaitStartedAsync(int id) =>
        processes[id - 1]!.WaitForLineAsync(line => line.Contains("Press Ctrl-C to stop", StringComparison.Ordinal), Deadline);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
