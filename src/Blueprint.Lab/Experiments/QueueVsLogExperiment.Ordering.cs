using System.Diagnostics;

using Blueprint.Lab.Experiments.Messaging;
using Blueprint.Lab.Processes;

using Confluent.Kafka;

using RabbitMQ.Client;

namespace Blueprint.Lab.Experiments;

/// <summary>Per-key order when several consumers share the work.</summary>
public sealed partial class QueueVsLogExperiment
{
    /// <summary>Competing consumers on each side: the log's group members, the queue's consumers.</summary>
    private const int OrderingConsumers = 4;

    /// <summary>Each queue consumer's unacknowledged deliveries at most.</summary>
    private const ushort OrderingPrefetch = 50;

    /// <summary>In the requeue run, the first delivery of every this-many-th message fails and is requeued.</summary>
    private const int RequeueEvery = 20;

    private static async Task<Ordering> OrderingAsync(LogNodeProcess node, IConnection rabbit, Sizes sizes, Random random, CancellationToken cancellationToken)
    {
        // Keys in a seeded random interleaving; each key's sequence numbers count up in sending order.
        long[] next = new long[sizes.OrderingKeys];
        (int Key, long Sequence)[] messages = [.. Enumerable.Range(0, sizes.OrderingMessages).Select(_ =>
        {
            int key = random.Next(sizes.OrderingKeys);
            return (key, next[key]++);
        })];

        KeyOrder log = await LogOrderAsync(node, messages).ConfigureAwait(false);
        KeyOrder competing = await QueueOrderAsync(rabbit, "ordering", messages, requeue: false, cancellationToken).ConfigureAwait(false);
        KeyOrder requeued = await QueueOrderAsync(rabbit, "ordering-requeue", messages, requeue: true, cancellationToken).ConfigureAwait(false);
        return new Ordering(messages.Length, sizes.OrderingKeys, log, competing, requeued);
    }

    /// <summary>A keyed topic with one partition per consumer; the group is formed before the first record is sent.</summary>
    private static async Task<KeyOrder> LogOrderAsync(LogNodeProcess node, (int Key, long Sequence)[] messages)
    {
        const string Topic = "ordering";
        await KafkaClients.CreateTopicAsync(node.Bootstrap, Topic, OrderingConsumers).ConfigureAwait(false);
        KeyOrder order = new();
        int[][] assignments = [.. Enumerable.Range(0, OrderingConsumers).Select(_ => Array.Empty<int>())];
        using CancellationTokenSource stop = new();
        Task[] members = [.. Enumerable.Range(0, OrderingConsumers).Select(member => Task.Factory.StartNew(() =>
        {
            using IConsumer<string, byte[]> consumer = KafkaClients.BuildConsumer(
                KafkaClients.Consumer(node.Bootstrap, "ordering"), new ClientStatistics(), partitions => Volatile.Write(ref assignments[member], [.. partitions]));
            consumer.Subscribe(Topic);
            while (!stop.IsCancellationRequested && order.Count < messages.Length)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(50)) is { Message.Value: { } value })
                {
                    (int key, long sequence) = ReadBody(value);
                    order.Processed(key, sequence);
                }
            }

            consumer.Close();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))];

        try
        {
            // A barrier, not a sleep: every member holds exactly one partition.
            long started = Stopwatch.GetTimestamp();
            while (Enumerable.Range(0, OrderingConsumers).Select(member => Volatile.Read(ref assignments[member])).ToArray() is var held
                && (!held.All(partitions => partitions.Length == 1) || held.SelectMany(partitions => partitions).Distinct().Count() != OrderingConsumers))
            {
                RunInvariant.Holds(Stopwatch.GetElapsedTime(started) < ReadDeadline, $"the ordering group did not settle within {ReadDeadline.TotalSeconds:F0} s");
                await Task.Delay(TimeSpan.FromMilliseconds(20)).ConfigureAwait(false);
            }

            using IProducer<string, byte[]> producer = Producer(node, idempotent: true);
            _ = KafkaClients.ProduceAll(producer, Topic, messages.Length,
                i => new Message<string, byte[]> { Key = $"key-{messages[i].Key}", Value = Body(messages[i].Key, messages[i].Sequence, StampedRecord.Bytes) }, WindowMax);
            RunInvariant.Holds(Task.WaitAll(members, ReadDeadline), $"the ordering group read {order.Count} of {messages.Length} records");
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            _ = Task.WaitAll(members, ReadDeadline);
        }

        return order;
    }

    /// <summary>One queue, every message published in order, then consumed by competing consumers.</summary>
    private static async Task<KeyOrder> QueueOrderAsync(IConnection rabbit, string queue, (int Key, long Sequence)[] messages, bool requeue, CancellationToken cancellationToken)
    {
        await RabbitMqClients.DeclareQueueAsync(rabbit, queue, cancellationToken).ConfigureAwait(false);
        await RabbitMqClients.PublishAsync(rabbit, string.Empty, queue, messages.Length,
            i => Body(messages[i].Key, messages[i].Sequence, StampedRecord.Bytes), WindowMax, cancellationToken).ConfigureAwait(false);
        KeyOrder order = new();
        await RabbitMqClients.ConsumeAsync(rabbit, queue, OrderingConsumers, OrderingPrefetch, messages.Length, (_, delivery) =>
        {
            (int key, long sequence) = ReadBody(delivery.Body.Span);
            if (requeue && !delivery.Redelivered && sequence % RequeueEvery == 0)
            {
                return Disposition.Requeue;
            }

            order.Processed(key, sequence);
            return Disposition.Ack;
        }, cancellationToken).ConfigureAwait(false);
        return order;
    }

    /// <param name="Messages">Messages sent.</param>
    /// <param name="Keys">Distinct keys.</param>
    /// <param name="Log">The log's group of <see cref="OrderingConsumers"/> members on as many partitions.</param>
    /// <param name="Competing">The queue with <see cref="OrderingConsumers"/> competing consumers.</param>
    /// <param name="Requeued">The same, with a failed first delivery of every <see cref="RequeueEvery"/>-th message requeued.</param>
    private sealed record Ordering(int Messages, int Keys, KeyOrder Log, KeyOrder Competing, KeyOrder Requeued);
}
