using System.Diagnostics;

using Blueprint.Lab.Experiments.Messaging;
using Blueprint.Lab.Processes;

using Confluent.Kafka;

using RabbitMQ.Client;

namespace Blueprint.Lab.Experiments;

/// <summary>Throughput at matched durability: one producer or publisher, one consumer, the same window of unconfirmed messages.</summary>
public sealed partial class QueueVsLogExperiment
{
    /// <summary>The queue consumer's unacknowledged deliveries at most.</summary>
    private const ushort ThroughputPrefetch = 1_000;

    private static async Task<Throughput> ThroughputAsync(LogNodeProcess node, IConnection rabbit, int count, CancellationToken cancellationToken)
    {
        const string Name = "throughput";
        await KafkaClients.CreateTopicAsync(node.Bootstrap, Name, 1).ConfigureAwait(false);
        TimeSpan logProduce;
        using (IProducer<string, byte[]> producer = Producer(node))
        {
            logProduce = KafkaClients.ProduceAll(producer, Name, count, i => new Message<string, byte[]> { Key = "event", Value = Body(0, i) }, WindowMax);
        }

        long logRead = 0;
        long started = Stopwatch.GetTimestamp();
        using (IConsumer<string, byte[]> consumer = KafkaClients.BuildConsumer(KafkaClients.Consumer(node.Bootstrap, "throughput"), new ClientStatistics()))
        {
            logRead = KafkaClients.ReadToEnd(consumer, Name, 1, _ => { }, ReadDeadline);
            consumer.Close();
        }

        TimeSpan logConsume = Stopwatch.GetElapsedTime(started);
        RunInvariant.Holds(logRead == count, $"the log's reader got {logRead} of {count} records");

        await RabbitMqClients.DeclareQueueAsync(rabbit, Name, cancellationToken).ConfigureAwait(false);
        started = Stopwatch.GetTimestamp();
        await RabbitMqClients.PublishAsync(rabbit, string.Empty, Name, count, i => Body(0, i), WindowMax, cancellationToken).ConfigureAwait(false);
        TimeSpan queuePublish = Stopwatch.GetElapsedTime(started);
        started = Stopwatch.GetTimestamp();
        await RabbitMqClients.ConsumeAsync(rabbit, Name, consumers: 1, ThroughputPrefetch, count, (_, _) => Disposition.Ack, cancellationToken).ConfigureAwait(false);
        TimeSpan queueConsume = Stopwatch.GetElapsedTime(started);

        return new Throughput(count,
            count / logProduce.TotalSeconds, count / logConsume.TotalSeconds,
            count / queuePublish.TotalSeconds, count / queueConsume.TotalSeconds);
    }

    /// <param name="Messages">Messages sent and received on each side.</param>
    /// <param name="LogProducePerSecond">Records per second from the first send to the last acknowledgement.</param>
    /// <param name="LogConsumePerSecond">Records per second read from the beginning to the end.</param>
    /// <param name="QueuePublishPerSecond">Messages per second from the first publish to the last confirm.</param>
    /// <param name="QueueConsumePerSecond">Messages per second from the first consume to the last acknowledgement.</param>
    private sealed record Throughput(int Messages, double LogProducePerSecond, double LogConsumePerSecond, double QueuePublishPerSecond, double QueueConsumePerSecond);
}
