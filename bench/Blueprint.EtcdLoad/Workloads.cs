using System.Globalization;
using Blueprint.Coordination.Etcd.Rpc;
using Google.Protobuf;

namespace Blueprint.EtcdLoad;

/// <summary>The closed-loop workloads: put, range and lock. Every RPC carries the run's deadline.</summary>
internal static class Workloads
{
    /// <summary>Distinct keys a put run cycles through at most.</summary>
    public const int KeySpaceMax = 10_000;

    /// <summary>TTL of each lock client's lease: far longer than any run, revoked at the end.</summary>
    public const long LockLeaseTtlSeconds = 600;

    // Keys and values are fixed before the run: the loop builds no strings.
    private const int ValueSeed = 20_251_128;

    /// <summary>Put of fixed-size keys (a pool of up to <see cref="KeySpaceMax"/>) and one fixed value, to the leader.</summary>
    public static Task<LoadResult> PutAsync(EtcdCluster cluster, LoadOptions options, int leader, CancellationToken cancellationToken)
    {
        var keys = Keys(options.KeySizeBytes);
        var value = Value(options.ValueSizeBytes);
        var next = new int[options.Clients];
        return ClosedLoop.RunAsync(options.Clients, options.Warmup, options.Duration, async (client, ct) =>
        {
            // Clients start at spread-out offsets of the pool.
            var key = keys[(int)(((long)client * 7_919 + next[client]++) % keys.Length)];
            await cluster.Kv(leader, client).PutAsync(new PutRequest { Key = key, Value = value }, deadline: Deadline(options), cancellationToken: ct);
            return true;
        }, cancellationToken);
    }

    /// <summary>Range of one key (written once first, through the leader), each client on endpoint <c>client mod N</c>.</summary>
    public static async Task<LoadResult> RangeAsync(EtcdCluster cluster, LoadOptions options, int leader, CancellationToken cancellationToken)
    {
        var key = Keys(options.KeySizeBytes)[0];
        await cluster.Kv(leader, 0).PutAsync(new PutRequest { Key = key, Value = Value(options.ValueSizeBytes) }, deadline: Deadline(options), cancellationToken: cancellationToken);
        var endpoints = cluster.Endpoints.Count;
        return await ClosedLoop.RunAsync(options.Clients, options.Warmup, options.Duration, async (client, ct) =>
        {
            var request = new RangeRequest { Key = key, Serializable = !options.Linearizable };
            // client / endpoints picks the connection, so the clients of one endpoint spread over its connections.
            var response = await cluster.Kv(client % endpoints, client / endpoints).RangeAsync(request, deadline: Deadline(options), cancellationToken: ct);
            return response.Kvs.Count == 1;
        }, cancellationToken);
    }

    /// <summary>
    /// etcd's mutex recipe in its uncontended case, one key per client: a lease granted once per client,
    /// then per pair Txn(create_revision(key) == 0 → Put(key, lease)) and DeleteRange(key), to the leader.
    /// A Txn whose guard fails (the key already held) is an error.
    /// </summary>
    public static async Task<LoadResult> LockAsync(EtcdCluster cluster, LoadOptions options, int leader, CancellationToken cancellationToken)
    {
        var leases = new long[options.Clients];
        var keys = new ByteString[options.Clients];
        for (var client = 0; client < options.Clients; client++)
        {
            var granted = await cluster.Lease(leader, client).LeaseGrantAsync(new LeaseGrantRequest { TTL = LockLeaseTtlSeconds }, deadline: Deadline(options), cancellationToken: cancellationToken);
            leases[client] = granted.ID;
            keys[client] = ByteString.CopyFromUtf8(string.Create(CultureInfo.InvariantCulture, $"bench-lock/{client:D5}"));
        }

        try
        {
            return await ClosedLoop.RunAsync(options.Clients, options.Warmup, options.Duration, async (client, ct) =>
            {
                var kv = cluster.Kv(leader, client);
                var key = keys[client];
                var acquire = new TxnRequest
                {
                    Compare = { new Compare { Result = Compare.Types.CompareResult.Equal, Target = Compare.Types.CompareTarget.Create, Key = key, CreateRevision = 0 } },
                    Success = { new RequestOp { RequestPut = new PutRequest { Key = key, Lease = leases[client] } } },
                };
                var acquired = await kv.TxnAsync(acquire, deadline: Deadline(options), cancellationToken: ct);
                if (!acquired.Succeeded)
                {
                    return false;
                }

                await kv.DeleteRangeAsync(new DeleteRangeRequest { Key = key }, deadline: Deadline(options), cancellationToken: ct);
                return true;
            }, cancellationToken);
        }
        finally
        {
            // Best effort: the leases expire by themselves.
            await Task.WhenAll(leases.Select((lease, client) => RevokeAsync(cluster, leader, client, lease, options)));
        }
    }

    public static DateTime Deadline(LoadOptions options) => DateTime.UtcNow + options.Deadline;

    /// <summary>Keys of exactly <paramref name="sizeBytes"/> bytes: zero-padded decimal, as many as the size can hold up to <see cref="KeySpaceMax"/>.</summary>
    public static ByteString[] Keys(int sizeBytes)
    {
        var count = sizeBytes >= 4 ? KeySpaceMax : (int)Math.Pow(10, sizeBytes);
        return Enumerable.Range(0, count)
            .Select(i => ByteString.CopyFromUtf8(i.ToString(CultureInfo.InvariantCulture).PadLeft(sizeBytes, '0')))
            .ToArray();
    }

    /// <summary>A value of <paramref name="sizeBytes"/> seeded random bytes.</summary>
    public static ByteString Value(int sizeBytes)
    {
        var bytes = new byte[sizeBytes];
        new Random(ValueSeed).NextBytes(bytes);
        return ByteString.CopyFrom(bytes);
    }

    private static async Task RevokeAsync(EtcdCluster cluster, int leader, int client, long lease, LoadOptions options)
    {
        try
        {
            await cluster.Lease(leader, client).LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, deadline: Deadline(options));
        }
        catch (Grpc.Core.RpcException)
        {
            // The lease outlives the run by its TTL at most.
        }
    }
}
