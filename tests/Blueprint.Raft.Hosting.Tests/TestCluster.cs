using System.Net;
using Blueprint.Core.Raft;
using Blueprint.Raft.Hosting;
using Blueprint.Testing.Faults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Blueprint.Raft.Hosting.Tests;

/// <summary>
/// An in-process cluster: each node is a RaftHost with memory storage and a toy state machine, serving its peer
/// service on a real Kestrel server (HTTP/2 only) on loopback. With a fault network every node dials its peers
/// through the proxies of <see cref="FaultNetwork"/>.
/// </summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private TestCluster(List<TestClusterNode> nodes, FaultNetwork? network, TimeProvider time)
    {
        Nodes = nodes;
        Network = network;
        Time = time;
    }

    public List<TestClusterNode> Nodes { get; }

    public FaultNetwork? Network { get; }

    public TimeProvider Time { get; }

    public TestClusterNode this[int id] => Nodes.Single(n => n.Id == id);

    public IEnumerable<TestClusterNode> Running => Nodes.Where(n => n.Host is { IsStopped: false });

    /// <summary>Options every test node shares: 10 ms ticks, a 200 ms base election timeout.</summary>
    public static RaftHostOptions BaseOptions(int id, IReadOnlyList<RaftMember> members) => new()
    {
        NodeId = id,
        Name = $"n{id}",
        InitialMembers = members,
        ClientUrls = [$"http://127.0.0.1:{2379 + (id * 10)}"],
        TickInterval = TimeSpan.FromMilliseconds(10),
        ElectionTimeoutTicks = 20,
        HeartbeatTicks = 2,
        ForwardTimeout = TimeSpan.FromSeconds(2),
        ReconnectBackoffMax = TimeSpan.FromMilliseconds(200),
    };

    public static async Task<TestCluster> StartAsync(
        int size,
        bool faultNetwork = false,
        Func<RaftHostOptions, RaftHostOptions>? configure = null,
        TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var nodes = new List<TestClusterNode>();
        for (int id = 1; id <= size; id++)
        {
            var node = new TestClusterNode(id, time);
            await node.StartServerAsync(0);
            nodes.Add(node);
        }

        FaultNetwork? network = faultNetwork ? FaultNetwork.Start(nodes.ToDictionary(n => n.Name, n => n.Port)) : null;
        var members = nodes.Select(n => n.Member).ToList();
        foreach (var node in nodes)
        {
            var options = BaseOptions(node.Id, members);
            if (network is not null)
            {
                options = options with
                {
                    PeerDialUrls = nodes.Where(p => p.Id != node.Id).ToDictionary(p => p.Id, p => $"http://{network.AddressFor(node.Name, p.Name)}"),
                };
            }

            node.Options = configure?.Invoke(options) ?? options;
            node.Storage = new MemoryRaftStorage(node.Options.BootstrapVoters());
        }

        var cluster = new TestCluster(nodes, network, time);
        foreach (var node in nodes)
        {
            await node.StartHostAsync();
        }

        return cluster;
    }

    public async Task<TestClusterNode> WaitForLeaderAsync(IEnumerable<TestClusterNode>? among = null)
    {
        var candidates = (among ?? Running).ToList();
        return await Wait.ForAsync(
            () =>
            {
                var leaders = candidates.Where(n => n.Host is { IsLeader: true, IsStopped: false }).ToList();
                var leader = leaders.Count == 1 ? leaders[0] : null;

                // Stable: every candidate agrees on who leads.
                return leader is not null && candidates.All(n => n.Host!.LeaderId == leader.Id) ? leader : null;
            },
            $"one leader among nodes {string.Join(",", candidates.Select(n => n.Id))} that all of them know");
    }

    public async Task WaitForAppliedAsync(long index, IEnumerable<TestClusterNode>? nodes = null)
    {
        foreach (var node in (nodes ?? Running).ToList())
        {
            await Wait.UntilAsync(() => node.Host!.AppliedIndex >= index, () => $"node {node.Id} applies index {index} (at {node.Host!.AppliedIndex})");
        }
    }

    /// <summary>Adds a node process that will join: a server on a fresh port, not yet started as a host.</summary>
    public async Task<TestClusterNode> AddServerAsync(int id)
    {
        var node = new TestClusterNode(id, Time);
        await node.StartServerAsync(0);
        Nodes.Add(node);
        return node;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.StopAsync();
        }

        if (Network is not null)
        {
            await Network.DisposeAsync();
        }
    }
}

/// <summary>One node: a Kestrel server for the peer port and, once started, its RaftHost.</summary>
internal sealed class TestClusterNode(int id, TimeProvider time)
{
    private WebApplication? _app;

    public int Id { get; } = id;

    public string Name => $"n{Id}";

    public int Port { get; private set; }

    public string PeerUrl => $"http://127.0.0.1:{Port}";

    public RaftMember Member => new(Id, Name, [PeerUrl], []);

    public RaftHostOptions Options { get; set; } = null!;

    public MemoryRaftStorage Storage { get; set; } = null!;

    /// <summary>The storage the host writes through: <see cref="Storage"/> behind a gate a test may close.</summary>
    public GatedStorage? Gate { get; private set; }

    public KvStateMachine Machine { get; private set; } = new();

    public RaftHost? Host { get; private set; }

    public async Task StartServerAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.Services.AddRaftPeerService();
        builder.Services.AddSingleton(_ => Host ?? throw new InvalidOperationException($"node {Id} has no host yet"));
        var app = builder.Build();
        app.MapRaftPeerService();
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Port = new Uri(address).Port;
        _app = app;
    }

    /// <summary>Starts the host from <see cref="Storage"/> with a fresh state machine, as a restarted process would.</summary>
    public async Task StartHostAsync(ILoggerFactory? loggers = null)
    {
        Machine = new KvStateMachine();
        Gate = new GatedStorage(Storage);
        Host = new RaftHost(Options, Gate, Machine, loggers ?? NullLoggerFactory.Instance, time);
        await Host.StartAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Stops host and server, keeping the storage, like a killed process.</summary>
    public async Task StopAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None);
            await _app.DisposeAsync();
            _app = null;
        }
    }

    /// <summary>Restarts from the same storage on the same port.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        Host = null;
        await StartServerAsync(Port);
        await StartHostAsync();
    }
}
