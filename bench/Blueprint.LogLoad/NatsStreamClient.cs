using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Blueprint.LogLoad;

/// <summary>
/// NATS.Net against one JetStream stream on file storage whose one subject is its name. Publishes are pipelined the way
/// the Go client's asynchronous JetStream publish does it: each goes out with a reply subject under one inbox, and the
/// stream's PubAck replies arrive on one subscription to that inbox, as many outstanding as the window allows
/// (<c>NatsJSContext.PublishAsync</c> awaits one request-reply per message and spends the client's CPU on that). The
/// reader is a pull consumer (ack policy none, from the first message) consumed in batches.
/// </summary>
internal sealed class NatsStreamClient(LoadOptions options) : ILogClient
{
    private static readonly byte[] ErrorMarker = Encoding.ASCII.GetBytes("\"error\"");
    private readonly ConcurrentDictionary<long, Action<Exception?>> _pending = new();
    private readonly string _inbox = "_INBOX.log-load." + Guid.NewGuid().ToString("N");
    private readonly CancellationTokenSource _stopping = new();
    private NatsConnection? _connection;
    private NatsJSContext? _jetStream;
    private Task _acks = Task.CompletedTask;
    private long _sequence;

    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        _connection = new NatsConnection(new NatsOpts
        {
            Url = $"nats://{options.Server}",
            RequestTimeout = TimeSpan.FromSeconds(60),
            // Replies wait for the reader rather than being dropped: a dropped PubAck would leak a window slot.
            SubPendingChannelCapacity = options.Window + 1024,
            SubPendingChannelFullMode = BoundedChannelFullMode.Wait,
        });
        await _connection.ConnectAsync();
        _jetStream = new NatsJSContext(_connection);
        try
        {
            await _jetStream.CreateStreamAsync(new StreamConfig(options.Topic, [options.Topic]) { Storage = StreamConfigStorage.File }, cancellationToken);
        }
        catch (NatsJSApiException e) when (e.Error.ErrCode == 10058)
        {
            // JSStreamNameExistErr: created by an earlier run.
        }

        var replies = await _connection.SubscribeCoreAsync<byte[]>(_inbox + ".*", cancellationToken: cancellationToken);
        _acks = Task.Run(() => ReadAcksAsync(replies), CancellationToken.None);
    }

    public void Append(byte[] payload, Action<Exception?> acknowledged)
    {
        var connection = _connection ?? throw new InvalidOperationException("PrepareAsync first");
        var sequence = Interlocked.Increment(ref _sequence);
        _pending[sequence] = acknowledged;
        var published = connection.PublishAsync(options.Topic, payload, replyTo: _inbox + "." + sequence.ToString(CultureInfo.InvariantCulture));
        if (!published.IsCompletedSuccessfully)
        {
            _ = AwaitPublishAsync(published, sequence);
        }
    }

    public async Task ReadAsync(Func<ReadOnlyMemory<byte>, bool> onRecord, CancellationToken cancellationToken)
    {
        var jetStream = _jetStream ?? throw new InvalidOperationException("PrepareAsync first");
        var consumer = await jetStream.CreateOrUpdateConsumerAsync(options.Topic, new ConsumerConfig
        {
            Name = "log-load-" + Guid.NewGuid().ToString("N")[..8],
            AckPolicy = ConsumerConfigAckPolicy.None,
            DeliverPolicy = ConsumerConfigDeliverPolicy.All,
            InactiveThreshold = TimeSpan.FromMinutes(5),
        }, cancellationToken);
        try
        {
            await foreach (var message in consumer.ConsumeAsync<byte[]>(opts: new NatsJSConsumeOpts { MaxMsgs = options.FetchRecords }, cancellationToken: cancellationToken))
            {
                if (!onRecord(message.Data ?? []))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _acks.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_connection is { } connection)
        {
            await connection.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private async Task ReadAcksAsync(INatsSub<byte[]> replies)
    {
        await using (replies)
        {
            try
            {
                await foreach (var reply in replies.Msgs.ReadAllAsync(_stopping.Token))
                {
                    var dot = reply.Subject.LastIndexOf('.');
                    if (long.TryParse(reply.Subject.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) &&
                        _pending.TryRemove(sequence, out var acknowledged))
                    {
                        var data = reply.Data ?? [];
                        acknowledged(data.AsSpan().IndexOf(ErrorMarker) < 0 && data.Length > 0
                            ? null
                            : new InvalidOperationException($"JetStream refused a publish: {Encoding.UTF8.GetString(data)}"));
                    }
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
            }
        }
    }

    private async Task AwaitPublishAsync(ValueTask published, long sequence)
    {
        try
        {
            await published;
        }
        catch (Exception e) when (e is NatsException or OperationCanceledException)
        {
            if (_pending.TryRemove(sequence, out var acknowledged))
            {
                acknowledged(e);
            }
        }
    }
}
