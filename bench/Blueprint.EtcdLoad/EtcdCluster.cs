using System.Net;
using Blueprint.Coordination.Etcd.Rpc;
using Grpc.Core;
using Grpc.Net.Client;

namespace Blueprint.EtcdLoad;

/// <summary>
/// gRPC channels to a set of etcd v3 endpoints: <c>connectionsPerEndpoint</c> channels per endpoint, each
/// held to one HTTP/2 connection, so a client's channel is its connection (as etcd's benchmark <c>--conns</c>).
/// </summary>
internal sealed class EtcdCluster : IDisposable
{
    // A dead member refuses at once on loopback; this bounds a connect that hangs instead.
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    private readonly GrpcChannel[][] channels;

    public EtcdCluster(IReadOnlyList<Uri> endpoints, int connectionsPerEndpoint)
    {
        Endpoints = endpoints;
        channels = endpoints
            .Select(endpoint => Enumerable.Range(0, connectionsPerEndpoint).Select(_ => Open(endpoint)).ToArray())
            .ToArray();
    }

    public IReadOnlyList<Uri> Endpoints { get; }

    /// <summary>The KV client of <paramref name="client"/> on endpoint <paramref name="endpoint"/>.</summary>
    public KV.KVClient Kv(int endpoint, int client) => new(Channel(endpoint, client));

    public Lease.LeaseClient Lease(int endpoint, int client) => new(Channel(endpoint, client));

    public Maintenance.MaintenanceClient Maintenance(int endpoint) => new(channels[endpoint][0]);

    /// <summary>
    /// The index of the endpoint that leads: the one whose Status says its own member id
    /// (<c>header.member_id</c>) is the leader. Null when none does or the answering members disagree.
    /// </summary>
    public async Task<int?> FindLeaderAsync(TimeSpan deadline, bool requireEveryMember, CancellationToken cancellationToken)
    {
        var answers = await Task.WhenAll(Endpoints.Select((_, index) => StatusOrNullAsync(index, deadline, cancellationToken)));
        if (requireEveryMember && answers.Any(answer => answer is null))
        {
            return null;
        }

        var leaders = answers.Where(answer => answer is not null).Select(answer => answer!.Leader).Distinct().ToArray();
        if (leaders is not [var leader] || leader == 0)
        {
            return null;
        }

        var index = Array.FindIndex(answers, answer => answer is not null && answer.Header.MemberId == leader);
        return index >= 0 ? index : null;
    }

    /// <summary>Polls <see cref="FindLeaderAsync"/> until every member answers and one leads, or the timeout passes.</summary>
    public async Task<int?> WaitForLeaderAsync(TimeSpan timeout, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var leader = await FindLeaderAsync(deadline, requireEveryMember: true, cancellationToken);
            if (leader is not null || DateTime.UtcNow >= until)
            {
                return leader;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    public async Task<StatusResponse?> StatusOrNullAsync(int endpoint, TimeSpan deadline, CancellationToken cancellationToken)
    {
        try
        {
            return await Maintenance(endpoint).StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow + deadline, cancellationToken: cancellationToken);
        }
        catch (RpcException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        foreach (var channel in channels.SelectMany(perEndpoint => perEndpoint))
        {
            channel.Dispose();
        }
    }

    private GrpcChannel Channel(int endpoint, int client) => channels[endpoint][client % channels[endpoint].Length];

    private static GrpcChannel Open(Uri endpoint) => GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler
        {
            // One connection per channel: --conns is the number of connections, not a hint.
            EnableMultipleHttp2Connections = false,
            ConnectTimeout = ConnectTimeout,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            AutomaticDecompression = DecompressionMethods.None,
        },
        // A failed call is counted, never retried behind the measurement's back.
        MaxRetryAttempts = 0,
    });
}
