using Blueprint.Lab.Experiments.Messaging;
using Blueprint.Lab.Processes;

using Confluent.Kafka;

using RabbitMQ.Client;

namespace Blueprint.Lab.Experiments;

/// <summary>Replay: after one consumer has processed everything, can a newcomer read the history again?</summary>
public sealed partial class QueueVsLogExperiment
{
    private static async Task<Replay> ReplayAsync(LogNodeProcess node, IConnection rabbit, int count, CancellationToken cancellationToken)
    {
        const string Name = "orders";

        // The log: a group processes every record and commits; a group created afterwards starts at offset 0.
        await KafkaClients.CreateTopicAsync(node.Bootstrap, Name, 1).ConfigureAwait(false);
        using (IProducer<string, byte[]> producer = Producer(node))
        {
            _ = KafkaClients.ProduceAll(producer, Name, count, i => new Message<string, byte[]> { Key = "order", Value = Body(0, i) }, WindowMax);
        }

        long logFirst = ReadAsGroup(node, Name, 1, "billing");
        long logReplayed = ReadAsGroup(node, Name, 1, "audit");

        // The queue: a consumer processes and acknowledges every message; a consumer that comes afterwards finds nothing.
        await RabbitMqClients.DeclareQueueAsync(rabbit, Name, cancellationToken).ConfigureAwait(false);
        await RabbitMqClients.PublishAsync(rabbit, string.Empty, Name, count, i => Body(0, i), WindowMax, cancellationToken).ConfigureAwait(false);
        long queueFirst = 0;
        await RabbitMqClients.ConsumeAsync(rabbit, Name, consumers: 1, prefetch: 100, count, (_, _) =>
        {
            queueFirst++;
            return Disposition.Ack;
        }, cancellationToken).ConfigureAwait(false);
        long queueLeft = await RabbitMqClients.MessageCountAsync(rabbit, Name, cancellationToken).ConfigureAwait(false);
        long queueReplayed = 0;
        await using (IChannel channel = await rabbit.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            while (await channel.BasicGetAsync(Name, autoAck: true, cancellationToken).ConfigureAwait(false) is not null)
            {
                queueReplayed++;
            }
        }

        return new Replay(count, logFirst, logReplayed, queueFirst, queueLeft, queueReplayed);
    }

    /// <param name="Messages">Messages sent to each.</param>
    /// <param name="LogFirst">Records the first group read.</param>
    /// <param name="LogReplayed">Records a group created afterwards read.</param>
    /// <param name="QueueFirst">Messages the first consumer acknowledged.</param>
    /// <param name="QueueLeft">Messages the queue held afterwards.</param>
    /// <param name="QueueReplayed">Messages a consumer that came afterwards got.</param>
    private sealed record Replay(long Messages, long LogFirst, long LogReplayed, long QueueFirst, long QueueLeft, long QueueReplayed);
}
