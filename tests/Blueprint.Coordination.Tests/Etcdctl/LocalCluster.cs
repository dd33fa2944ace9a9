using System.Globalization;
using System.Text.RegularExpressions;
using Blueprint.Coordination.Tests.Support;
using Grpc.Core;
using Grpc.Net.Client;

namespace Blueprint.Coordination.Tests.Etcdctl;

/// <summary>A cluster started the way a user starts one: <c>blueprint cluster up --nodes N</c> as its own process.</summary>
public sealed partial class LocalCluster : IAsyncDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _directory;
    private readonly ProcessRunner _process;
    private readonly List<GrpcChannel> _channels;

    private LocalCluster(TempDirectory directory, ProcessRunner process, IReadOnlyList<int> etcdPorts, IReadOnlyList<int> memberPids)
    {
        _directory = directory;
        _process = process;
        EtcdPorts = etcdPorts;
        MemberPids = memberPids;
        _channels = [.. etcdPorts.Select(port => GrpcChannel.ForAddress($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"))];
    }

    public IReadOnlyList<int> EtcdPorts { get; }

    public IReadOnlyList<int> MemberPids { get; }

    public string Output => _process.StandardOutput;

    /// <summary>The members' Kafka ports (the log runs on every member).</summary>
    public IReadOnlyList<int> KafkaPorts { get; private init; } = [];

    /// <summary>The members' RESP ports (the KV cluster runs on every member).</summary>
    public IReadOnlyList<int> RespPorts { get; private init; } = [];

    /// <summary>The endpoints as etcdctl's <c>--endpoints</c> takes them.</summary>
    public string Endpoints => string.Join(',', EtcdPorts.Select(port => $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"));

    public CallInvoker Member(int index) => _channels[index].CreateCallInvoker();

    public static async Task<LocalCluster> StartAsync(int nodes)
    {
        var directory = new TempDirectory("blueprint-cluster");
        var firstEtcdPort = FreePorts.Block(2 * nodes);
        var firstHttpPort = FreePorts.Block(nodes);

        // The log runs on every member too, its listeners numbered from a base port in steps of ClusterMember.PortStride.
        var firstKafkaPort = FreePorts.Block(Blueprint.Hosting.ClusterMember.PortStride * nodes);
        var firstLogRaftPort = FreePorts.Block(Blueprint.Hosting.ClusterMember.PortStride * nodes);
        var firstRespPort = FreePorts.Block(Blueprint.Hosting.ClusterMember.PortStride * nodes);
        var firstOtlpGrpcPort = FreePorts.Block(Blueprint.Hosting.ClusterMember.PortStride * nodes);
        var firstOtlpHttpPort = FreePorts.Block(Blueprint.Hosting.ClusterMember.PortStride * nodes);
        var firstS3Port = FreePorts.Block(Blueprint.Hosting.ClusterMember.PortStride * nodes);
        var process = NodeProcess.Start(
            [
                "cluster", "up", "--nodes", Text(nodes), "--etcd-port", Text(firstEtcdPort), "--http-port", Text(firstHttpPort), "--data-dir", directory.Path,
                "--kafka-port", Text(firstKafkaPort), "--log-raft-port", Text(firstLogRaftPort), "--resp-port", Text(firstRespPort),
                "--otlp-grpc-port", Text(firstOtlpGrpcPort), "--otlp-http-port", Text(firstOtlpHttpPort), "--s3-port", Text(firstS3Port),
            ],
            directory.Path,

            // The members inherit them. A proposal waits for Raft up to 15 s rather than 5, and a follower waits 5 s
            // (50 ticks) without heartbeats before it calls an election rather than 1 s: when the machine is saturated (the
            // whole test suite at once) a heartbeat or a commit can be late, a needless election cuts off proposals and
            // leaves members reporting no leader, and these tests are about etcd's behaviour, not its speed.
            new Dictionary<string, string>
            {
                ["BLUEPRINT_Coordination__RequestTimeoutMs"] = "15000",
                ["BLUEPRINT_Coordination__ElectionTicks"] = "50",
            });
        try
        {
            await process.WaitForLineAsync(line => line.StartsWith("Ctrl-C stops", StringComparison.Ordinal), StartDeadline);
            var pids = PidPattern().Matches(process.StandardOutput).Select(match => int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(nodes, pids.Count);
            var cluster = new LocalCluster(directory, process, [.. Enumerable.Range(0, nodes).Select(i => firstEtcdPort + (2 * i))], pids)
            {
                KafkaPorts = [.. Enumerable.Range(0, nodes).Select(i => firstKafkaPort + (Blueprint.Hosting.ClusterMember.PortStride * i))],
                RespPorts = [.. Enumerable.Range(0, nodes).Select(i => firstRespPort + (Blueprint.Hosting.ClusterMember.PortStride * i))],
            };
            await cluster.WaitForLeaderAsync(StartDeadline);

            // Members may still be busy starting their other modules (the KV cluster forming, the log opening): the tests
            // begin once a first write commits, so their own first write is not the one that meets that load.
            await Eventually.TrueAsync(
                async () => (await Etcdctl.RunAsync(cluster.Endpoints, "put", "cluster-up/ready", "yes")).ExitCode == 0,
                StartDeadline,
                () => $"a first write committed through the cluster\n{cluster.Output}");
            return cluster;
        }
        catch
        {
            await process.DisposeAsync();
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Waits until every member reports the same leader.</summary>
    public Task<ulong> WaitForLeaderAsync(TimeSpan deadline) =>
        ClusterProbe.WaitForLeaderAsync(_channels, deadline, () => $"{Output}\n{_process.StandardError}");

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }

        _process.Terminate();
        try
        {
            await _process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            _process.Kill();
        }

        // The members stop with their parent; these are only the ones that did not.
        foreach (var pid in MemberPids)
        {
            try
            {
                using var member = System.Diagnostics.Process.GetProcessById(pid);
                if (!member.HasExited)
                {
                    member.Kill();
                }
            }
            catch (ArgumentException)
            {
            }
        }

        await _process.DisposeAsync();
        _directory.Dispose();
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@" pid (\d+) ")]
    private static partial Regex PidPattern();
}
