using StackExchange.Redis;

namespace Blueprint.LogLoad;

/// <summary>
/// StackExchange.Redis against one stream: XADD (the client pipelines every outstanding command on its connection)
/// and XREAD COUNT … BLOCK on a connection of its own from id 0 (no consumer group, no acknowledgements).
/// </summary>
internal sealed class RedisStreamClient(LoadOptions options) : ILogClient
{
    private static readonly RedisValue Field = "v";
    private ConnectionMultiplexer? _writer;

    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        _writer = await ConnectionMultiplexer.ConnectAsync(Configuration());
    }

    public void Append(byte[] payload, Action<Exception?> acknowledged)
    {
        var database = (_writer ?? throw new InvalidOperationException("PrepareAsync first")).GetDatabase();
        _ = AppendAsync(database.StreamAddAsync(options.Topic, Field, payload), acknowledged);
    }

    public async Task ReadAsync(Func<ReadOnlyMemory<byte>, bool> onRecord, CancellationToken cancellationToken)
    {
        // A blocking read holds its connection, so the reader has its own.
        await using var reader = await ConnectionMultiplexer.ConnectAsync(Configuration());
        var database = reader.GetDatabase();
        RedisValue last = "0";
        while (!cancellationToken.IsCancellationRequested)
        {
            var reply = await database.ExecuteAsync("XREAD", "COUNT", options.FetchRecords, "BLOCK", 100, "STREAMS", options.Topic, last);
            if (reply.IsNull)
            {
                continue;
            }

            // RESP2: [[key, [[id, [field, value]], …]]]
            var entries = (RedisResult[])((RedisResult[])reply!)[0]![1]!;
            foreach (var entry in entries)
            {
                var parts = (RedisResult[])entry!;
                last = (RedisValue)parts[0];
                var fields = (RedisResult[])parts[1]!;
                if (!onRecord((byte[])fields[1]!))
                {
                    return;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_writer is { } writer)
        {
            await writer.DisposeAsync();
        }
    }

    private ConfigurationOptions Configuration() => new()
    {
        EndPoints = { options.Server },
        Protocol = RedisProtocol.Resp2,
        AbortOnConnectFail = true,
        AsyncTimeout = 60_000,
        SyncTimeout = 60_000,
    };

    private static async Task AppendAsync(Task<RedisValue> added, Action<Exception?> acknowledged)
    {
        try
        {
            await added;
        }
        catch (RedisException e)
        {
            acknowledged(e);
            return;
        }

        acknowledged(null);
    }
}
