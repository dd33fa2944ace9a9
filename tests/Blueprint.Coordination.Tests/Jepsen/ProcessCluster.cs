using System.Globalization;
using Blueprint.Coordination.Tests.Support;
using Blueprint.Testing.Faults;
using Grpc.Net.Client;

namespace Blueprint.Coordination.Tests.Jepsen;

/// <summary>
/// Members as separate <c>blueprint run</c> processes whose Raft traffic (and forwarded requests) flows through a
/// <see cref="FaultNetwork"/>: each member dials each peer through its own proxy, so a test can partition, delay,
/// kill -9 and restart members.
/// </summary>
public sealed class ProcessCluster : IAsyncDisposable
{
    public static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _directory = new("blueprint-jepsen");
    private readonly ProcessRunner?[] _processes;
    private readonly GrpcChannel[] _channels;
    private readonly int[] _etcdPorts;
    private readonly int[] _raftPorts;
    private readonly int[] _httpPorts;
    private readonly string _initialCluster;

    private ProcessCluster(int members)
    {
        Names = [.. Enumerable.Range(1, members).Select(i => $"n{i.ToString(CultureInfo.InvariantCulture)}")];
        _processes = new ProcessRunner?[members];
        _etcdPorts = [.. Names.Select(_ => FreePorts.Next())];
        _raftPorts = [.. Names.Select(_ => FreePorts.Next())];
        _httpPorts = [.. Names.Select(_ => FreePorts.Next())];
        _channels = [.. _etcdPorts.Select(port => GrpcChannel.ForAddress($"http://127.0.0.1:{Text(port)}"))];
        _initialCluster = string.Join(',', Names.Select((name, i) => $"{name}=http://127.0.0.1:{Text(_raftPorts[i])}"));
        Faults = FaultNetwork.Start(Names.Select((name, i) => (name, _raftPorts[i])).ToDictionary(pair => pair.name, pair => pair.Item2));
    }

    public IReadOnlyList<string> Names { get; }

    public FaultNetwork Faults { get; }

    public IReadOnlyList<GrpcChannel> Channels => _channels;

    public static async Task<ProcessCluster> StartAsync(int members = 3)
    {
        var cluster = new ProcessCluster(members);
        try
        {
            for (var i = 0; i < members; i++)
            {
                cluster.Launch(i);
            }

            await cluster.WaitForLeaderAsync(StartDeadline);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public bool IsRunning(int member) => _processes[member] is { HasExited: false };

    /// <summary>kill -9: the member loses everything it had not made durable.</summary>
    public async Task KillAsync(int member)
    {
        if (_processes[member] is { } process)
        {
            process.Kill();
            await process.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await process.DisposeAsync();
            _processes[member] = null;
        }
    }

    /// <summary>Starts a stopped member again on its data directory and ports; returns once it serves the etcd API.</summary>
    public async Task RestartAsync(int member)
    {
        if (_processes[member] is null)
        {
            Launch(member);
            await _processes[member]!.WaitForLineAsync(line => line.StartsWith("Press Ctrl-C", StringComparison.Ordinal), StartDeadline);
        }
    }

    public Task<ulong> WaitForLeaderAsync(TimeSpan deadline) =>
        ClusterProbe.WaitForLeaderAsync([.. _channels.Where((_, i) => IsRunning(i))], deadline, Logs);

    /// <summary>The members' output, for failure messages.</summary>
    public string Logs() => string.Join("\n", _processes.Select((process, i) => $"--- {Names[i]}:\n{Tail(process?.StandardOutput)}\n{Tail(process?.StandardError)}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }

        for (var i = 0; i < _processes.Length; i++)
        {
            if (_processes[i] is { } process)
            {
                process.Kill();
                await process.DisposeAsync();
            }
        }

        await Faults.DisposeAsync();
        _directory.Dispose();
    }

    private void Launch(int member)
    {
        var name = Names[member];
        var dial = string.Join(',', Names.Where(peer => peer != name).Select(peer => $"{peer}=http://127.0.0.1:{Text(Faults.AddressFor(name, peer).Port)}"));
        _processes[member] = NodeProcess.Start(
            [
                "run", "--modules", "coordination", "--node-id", name, "--initial-cluster", _initialCluster,
                "--etcd-port", Text(_etcdPorts[member]), "--raft-port", Text(_raftPorts[member]), "--http-port", Text(_httpPorts[member]),
                "--data-dir", Path.Combine(_directory.Path, name),
            ],
            _directory.Path,
            new Dictionary<string, string>
            {
                ["BLUEPRINT_Coordination__PeerDialUrls"] = dial,
                // Shorter ticks than etcd's defaults make failovers, and so the test, quicker; the algorithm is the same.
                ["BLUEPRINT_Coordination__TickMs"] = "50",
                ["BLUEPRINT_Coordination__RequestTimeoutMs"] = "2000",
                ["BLUEPRINT_Coordination__LeaseMinTtlSeconds"] = "1",

                // Frequent snapshots, so compaction and a lagging member's snapshot install happen under the faults too.
                ["BLUEPRINT_Coordination__SnapshotEveryEntries"] = "200",
            });
    }

    private static string Tail(string? text) => text is null ? "(not running)" : text.Length <= 4000 ? text : text[^4000..];

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
