using System.Globalization;
using Blueprint.Kv.Cluster;
using StackExchange.Redis;

namespace Blueprint.Kv.Tests.Cluster;

/// <summary>
/// A KV cluster of separate <c>blueprint run --modules kv</c> processes on loopback, formed as <c>cluster up</c> forms it:
/// member i's primary owns the i-th slot range and its replica server follows member i+1's primary. More nodes can be
/// added later, started with the same members' list (so they join empty). A short node timeout keeps failovers quick.
/// </summary>
internal sealed class KvClusterProcesses : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private readonly TempDirectory root = new("blueprint-kv-cluster");
    private readonly List<ProcessRunner?> processes = [];
    private readonly List<int> respPorts = [];
    private readonly List<int> replicaPorts = [];
    private readonly int members;

    private KvClusterProcesses(int members)
    {
        this.members = members;
    }

    /// <summary>The members' list every node is started with.</summary>
    public string MemberList => string.Join(',', respPorts.Take(members).Select(port => $"127.0.0.1:{Text(port)}"));

    /// <summary>Node i's (from 1) primary RESP port.</summary>
    public int RespPort(int node) => respPorts[node - 1];

    /// <summary>Node i's replica RESP port (0 for an added node).</summary>
    public int ReplicaPort(int node) => replicaPorts[node - 1];

    /// <summary>Starts <paramref name="count"/> members, each with a replica server, and waits until every slot is served and every replica attached.</summary>
    public static async Task<KvClusterProcesses> StartAsync(int count = 3)
    {
        var cluster = new KvClusterProcesses(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                cluster.respPorts.Add(FreePorts.Next());
                cluster.replicaPorts.Add(FreePorts.Next());
            }

            for (var node = 1; node <= count; node++)
            {
                cluster.Launch(node);
            }

            await cluster.WaitFormedAsync(primaries: count, replicas: count);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts one more node, without a replica server; it joins the cluster empty. Returns its number.</summary>
    public async Task<int> AddNodeAsync()
    {
        respPorts.Add(FreePorts.Next());
        replicaPorts.Add(0);
        Launch(respPorts.Count);
        await WaitStartedAsync(respPorts.Count);
        return respPorts.Count;
    }

    /// <summary>SIGKILL of node <paramref name="node"/>.</summary>
    public void Kill(int node) => processes[node - 1]?.Kill();

    /// <summary>Runs <c>blueprint kv ARGS</c> to its end; returns its exit code and output.</summary>
    public async Task<(int ExitCode, string Output)> VerbAsync(params string[] arguments)
    {
        await using var verb = NodeProcess.Start(["kv", .. arguments], root.Path);
        var exit = await verb.WaitForExitAsync(Deadline);
        return (exit, verb.StandardOutput + verb.StandardError);
    }

    /// <summary>The cluster as node <paramref name="node"/>'s primary reports it.</summary>
    public async Task<IReadOnlyList<KvClusterNode>> NodesAsync(int node)
    {
        try
        {
            await using var connection = await ConnectAsync(RespPort(node));
            var reply = await connection.GetServer("127.0.0.1", RespPort(node)).ExecuteAsync("CLUSTER", "NODES");
            return KvClusterNode.ParseNodes(reply.ToString());
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return []; // not answering (yet): callers wait with a deadline
        }
    }

    /// <summary>DBSIZE of the server on <paramref name="port"/>, asked directly; -1 when it does not answer.</summary>
    public static async Task<long> DbSizeAsync(int port)
    {
        try
        {
            await using var connection = await ConnectAsync(port);
            return (long)await connection.GetServer("127.0.0.1", port).ExecuteAsync("DBSIZE");
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return -1;
        }
    }

    /// <summary>Waits until node <paramref name="askNode"/> (default 1) sees every slot served by up primaries, that many primaries with slots, and that many attached replicas.</summary>
    public Task WaitFormedAsync(int primaries, int replicas, int askNode = 1) =>
        Eventually.ValueAsync(
            () => NodesAsync(askNode),
            nodes => nodes.Where(node => node.IsPrimary && node.SeemsUp).Sum(node => node.SlotCount) == 16_384
                && nodes.Count(node => node.IsPrimary && node.SeemsUp && node.SlotCount > 0) == primaries
                && nodes.Count(node => !node.IsPrimary && node.SeemsUp && node.PrimaryId is not null && nodes.Any(primary => primary.Id == node.PrimaryId && primary.SeemsUp)) == replicas,
            Deadline,
            nodes => string.Join('\n', nodes.Select(node => $"{node.Endpoint} {(node.IsPrimary ? "primary" : "replica of " + node.PrimaryId)} up={node.SeemsUp} slots={node.SlotCount}")) + "\n" + Output(askNode));

    /// <summary>A cluster-mode StackExchange.Redis client seeded with every member.</summary>
    public Task<ConnectionMultiplexer> ConnectClientAsync()
    {
        var configuration = new ConfigurationOptions { AbortOnConnectFail = false, ConnectTimeout = 5_000, SyncTimeout = 5_000, AsyncTimeout = 5_000, AllowAdmin = true };
        foreach (var port in respPorts.Take(members))
        {
            configuration.EndPoints.Add("127.0.0.1", port);
        }

        return ConnectionMultiplexer.ConnectAsync(configuration);
    }

    /// <summary>A node's output so far, for failure messages.</summary>
    public string Output(int node) => processes[node - 1] is { } process ? process.StandardOutput[^Math.Min(process.StandardOutput.Length, 3000)..] : "";

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

    private static Task<ConnectionMultiplexer> ConnectAsync(int port)
    {
        var configuration = new ConfigurationOptions { AbortOnConnectFail = false, ConnectTimeout = 5_000, SyncTimeout = 5_000, AsyncTimeout = 5_000, AllowAdmin = true };
        configuration.EndPoints.Add("127.0.0.1", port);
        return ConnectionMultiplexer.ConnectAsync(configuration);
    }

    private void Launch(int node)
    {
        var directory = Path.Combine(root.Path, $"node-{Text(node)}");
        Directory.CreateDirectory(directory);
        List<string> arguments =
        [
            "run", "--modules", "kv", "--data-dir", directory,
            "--resp-port", Text(RespPort(node)), "--http-port", Text(FreePorts.Next()),
            "--kv-cluster", "true", "--kv-cluster-members", MemberList,
        ];
        if (ReplicaPort(node) != 0)
        {
            arguments.AddRange(["--kv-replica-port", Text(ReplicaPort(node))]);
        }

        var environment = new Dictionary<string, string>
        {
            ["BLUEPRINT_Kv__ClusterNodeTimeoutMs"] = "1500",
            ["BLUEPRINT_Kv__ClusterCheckIntervalMs"] = "100",
        };
        var process = NodeProcess.Start(arguments, directory, environment);
        if (node <= processes.Count)
        {
            processes[node - 1] = process;
        }
        else
        {
            processes.Add(process);
        }
    }

    private Task WaitStartedAsync(int node) =>
        processes[node - 1]!.WaitForLineAsync(line => line.Contains("Press Ctrl-C to stop", StringComparison.Ordinal), Deadline);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
