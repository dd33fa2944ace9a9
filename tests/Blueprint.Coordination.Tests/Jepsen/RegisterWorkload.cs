using System.Globalization;
using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Testing.Linearizability;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Blueprint.Coordination.Tests.Jepsen;

/// <summary>
/// Jepsen's register workload over the etcd API: clients read (linearizable Range), write (Put) and compare-and-set
/// (Txn: value == expected → Put) a few keys through random members, and record every operation. A write or
/// compare-and-set whose answer is lost is indeterminate (info): it may or may not have happened. A failed read
/// changed nothing, so it is recorded as failed.
/// </summary>
public sealed class RegisterWorkload(IReadOnlyList<GrpcChannel> members, int keys, int seed)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(3);

    public HistoryRecorder History { get; } = new();

    public int Acknowledged => _acknowledged;

    private int _acknowledged;

    public static string Key(int index) => $"jepsen/r{index.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Runs <paramref name="clients"/> clients until <paramref name="stop"/> fires.</summary>
    public Task RunAsync(int clients, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(() => ClientAsync(client, stop), CancellationToken.None)));

    /// <summary>One linearizable read of every key through <paramref name="member"/>, recorded; used after the faults heal.</summary>
    public async Task FinalReadsAsync(int process, int member)
    {
        for (var key = 0; key < keys; key++)
        {
            await ReadAsync(process, new KV.KVClient(members[member]), Key(key));
        }
    }

    private async Task ClientAsync(int client, CancellationToken stop)
    {
        var random = new Random(seed * 1_000 + client);
        while (!stop.IsCancellationRequested)
        {
            var kv = new KV.KVClient(members[random.Next(members.Count)]);
            var key = Key(random.Next(keys));
            var roll = random.Next(100);
            if (roll < 40)
            {
                await ReadAsync(client, kv, key);
            }
            else if (roll < 70)
            {
                await WriteAsync(client, kv, key, Value(random));
            }
            else
            {
                await CompareAndSetAsync(client, kv, key, Value(random), Value(random));
            }
        }
    }

    // Jepsen's small value space: compare-and-sets often succeed, so they test something.
    private static string Value(Random random) => random.Next(5).ToString(CultureInfo.InvariantCulture);

    private async Task ReadAsync(int client, KV.KVClient kv, string key)
    {
        var operation = History.Invoke(client, OperationFunction.Read, key);
        try
        {
            var response = await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, deadline: DateTime.UtcNow + CallTimeout);
            operation.Ok(response.Kvs.Count == 0 ? null : response.Kvs[0].Value.ToStringUtf8());
        }
        catch (RpcException)
        {
            operation.Fail();
        }
    }

    private async Task WriteAsync(int client, KV.KVClient kv, string key, string value)
    {
        var operation = History.Invoke(client, OperationFunction.Write, key, value);
        try
        {
            await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) }, deadline: DateTime.UtcNow + CallTimeout);
            operation.Ok();
            Interlocked.Increment(ref _acknowledged);
        }
        catch (RpcException)
        {
            operation.Info();
        }
    }

    private async Task CompareAndSetAsync(int client, KV.KVClient kv, string key, string expected, string value)
    {
        var operation = History.Invoke(client, OperationFunction.Cas, key, value, expected);
        var request = new TxnRequest();
        request.Compare.Add(new Compare
        {
            Key = ByteString.CopyFromUtf8(key),
            Target = Compare.Types.CompareTarget.Value,
            Result = Compare.Types.CompareResult.Equal,
            Value = ByteString.CopyFromUtf8(expected),
        });
        request.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } });
        try
        {
            var response = await kv.TxnAsync(request, deadline: DateTime.UtcNow + CallTimeout);
            operation.Ok(succeeded: response.Succeeded);
            if (response.Succeeded)
            {
                Interlocked.Increment(ref _acknowledged);
            }
        }
        catch (RpcException)
        {
            operation.Info();
        }
    }
}
