using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Blueprint.Lab.Experiments.Messaging;

/// <summary>What a queue consumer does with a delivery.</summary>
internal enum Disposition
{
    /// <summary>Processed: acknowledge it, the broker deletes it.</summary>
    Ack,

    /// <summary>Failed: reject it with requeue, the broker delivers it again (to any consumer).</summary>
    Requeue,
}

/// <summary>
/// RabbitMQ.Client (7.x, async only) as the experiments use it: durable queues, persistent messages, publisher confirms
/// streamed with a bounded window of unconfirmed messages, consumers with manual acknowledgements and a prefetch, and
/// every call bounded by a cancellation deadline.
/// </summary>
internal static class RabbitMqClients
{
    /// <summary>How long connecting, or one protocol round trip, may take.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Connects to a broker on 127.0.0.1 as the default user (which RabbitMQ admits from loopback only).</summary>
    public static Task<IConnection> ConnectAsync(int port, CancellationToken cancellationToken) =>
        new ConnectionFactory
        {
            HostName = "127.0.0.1",
            Port = port,
            RequestedConnectionTimeout = RequestTimeout,
            ContinuationTimeout = RequestTimeout,
            HandshakeContinuationTimeout = RequestTimeout,
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
        }.CreateConnectionAsync(cancellationToken);

    /// <summary>Declares a durable classic queue (survives a broker restart, as the log's topics do).</summary>
    public static async Task DeclareQueueAsync(IConnection connection, string queue, CancellationToken cancellationToken)
    {
        await using IChannel channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        _ = await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Declares a durable fanout exchange with <paramref name="queues"/> durable queues bound to it.</summary>
    public static async Task DeclareFanOutAsync(IConnection connection, string exchange, IEnumerable<string> queues, CancellationToken cancellationToken)
    {
        await using IChannel channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (string queue in queues)
        {
            _ = await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
            await channel.QueueBindAsync(queue, exchange, string.Empty, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The messages a queue holds (ready to deliver), by a passive declare.</summary>
    public static async Task<long> MessageCountAsync(IConnection connection, string queue, CancellationToken cancellationToken)
    {
        await using IChannel channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return (await channel.QueueDeclarePassiveAsync(queue, cancellationToken).ConfigureAwait(false)).MessageCount;
    }

    /// <summary>
    /// Publishes <paramref name="count"/> persistent messages made by <paramref name="body"/> on one channel with
    /// publisher confirms, at most <paramref name="windowMax"/> unconfirmed at a time, and returns when the broker has
    /// confirmed every one (for a persistent message on a durable queue: once it is on disk).
    /// </summary>
    /// <exception cref="InvalidOperationException">The broker refused (nacked) a message.</exception>
    public static async Task PublishAsync(IConnection connection, string exchange, string routingKey, int count, Func<int, byte[]> body, int windowMax, CancellationToken cancellationToken)
    {
        await using IChannel channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: false), cancellationToken).ConfigureAwait(false);
        using ConfirmWindow window = new(windowMax);
        channel.BasicAcksAsync += (_, e) => window.Confirm(e.DeliveryTag, e.Multiple, refused: false);
        channel.BasicNacksAsync += (_, e) => window.Confirm(e.DeliveryTag, e.Multiple, refused: true);
        BasicProperties persistent = new() { Persistent = true };
        for (int i = 0; i < count; i++)
        {
            ulong tag = await channel.GetNextPublishSequenceNumberAsync(cancellationToken).ConfigureAwait(false);
            await window.EnterAsync(tag, cancellationToken).ConfigureAwait(false);
            await channel.BasicPublishAsync(exchange, routingKey, mandatory: false, persistent, body(i), cancellationToken).ConfigureAwait(false);
        }

        await window.DrainAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="consumers"/> competing consumers on one queue, each on its own channel with
    /// <paramref name="prefetch"/> unacknowledged deliveries at most, until <paramref name="expected"/> deliveries were
    /// acknowledged. <paramref name="handle"/> runs for each delivery (one at a time per consumer) and decides its fate.
    /// Acknowledgements are sent one per message.
    /// </summary>
    public static async Task ConsumeAsync(IConnection connection, string queue, int consumers, ushort prefetch, long expected,
        Func<int, BasicDeliverEventArgs, Disposition> handle, CancellationToken cancellationToken)
    {
        TaskCompletionSource done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        long acknowledged = 0;
        List<IChannel> channels = [];
        try
        {
            for (int index = 0; index < consumers; index++)
            {
                IChannel channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                channels.Add(channel);
                await channel.BasicQosAsync(0, prefetch, global: false, cancellationToken).ConfigureAwait(false);
                AsyncEventingBasicConsumer consumer = new(channel);
                int consumerIndex = index;
                consumer.ReceivedAsync += async (_, delivery) =>
                {
                    if (handle(consumerIndex, delivery) == Disposition.Requeue)
                    {
                        await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, cancellationToken).ConfigureAwait(false);
                        return;
                    }

                    await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
                    if (Interlocked.Increment(ref acknowledged) == expected)
                    {
                        done.TrySetResult();
                    }
                };
                _ = await channel.BasicConsumeAsync(queue, autoAck: false, consumer, cancellationToken).ConfigureAwait(false);
            }

            if (expected > 0)
            {
                await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (IChannel channel in channels)
            {
                await channel.CloseAsync(CancellationToken.None).ConfigureAwait(false);
                await channel.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Unconfirmed publishes by delivery tag, at most a fixed number; confirms free their slots.</summary>
    private sealed class ConfirmWindow(int windowMax) : IDisposable
    {
        private readonly SemaphoreSlim _slots = new(windowMax, windowMax);
        private readonly SortedSet<ulong> _unconfirmed = [];
        private readonly Lock _gate = new();
        private long _refused;

        public async Task EnterAsync(ulong tag, CancellationToken cancellationToken)
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                _ = _unconfirmed.Add(tag);
            }
        }

        public Task Confirm(ulong tag, bool multiple, bool refused)
        {
            int confirmed;
            lock (_gate)
            {
                confirmed = multiple ? _unconfirmed.RemoveWhere(unconfirmed => unconfirmed <= tag) : (_unconfirmed.Remove(tag) ? 1 : 0);
            }

            if (refused)
            {
                _ = Interlocked.Add(ref _refused, confirmed);
            }

            if (confirmed > 0)
            {
                _ = _slots.Release(confirmed);
            }

            return Task.CompletedTask;
        }

        /// <summary>Waits until every publish is confirmed, by taking every slot.</summary>
        public async Task DrainAsync(CancellationToken cancellationToken)
        {
            for (int slot = 0; slot < windowMax; slot++)
            {
                await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            long refused = Interlocked.Read(ref _refused);
            RunInvariant.Holds(refused == 0, $"the broker refused {refused} messages");
        }

        public void Dispose() => _slots.Dispose();
    }
}
