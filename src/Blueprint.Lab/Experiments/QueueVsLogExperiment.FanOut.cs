using Blueprint.Lab.Experiments.Messaging;
using Blueprint.Lab.Processes;

using Confluent.Kafka;

using RabbitMQ.Client;

namespace Blueprint.Lab.Experiments;

/// <summary>Fan-out: N groups that each need every message.</summary>
public sealed partial class QueueVsLogExperiment
{
    private static async Task<IReadOnlyList<FanOutRow>> FanOutAsync(LogNodeProcess node, RabbitMqBroker broker, IConnection rabbit, Sizes sizes, CancellationToken cancellationToken)
    {
        const string Topic = "fanout";
        int count = sizes.FanOutMessages;

        // The log: one topic written once; each group reads it with its own offsets.
        await KafkaClients.CreateTopicAsync(node.Bootstrap, Topic, 1).ConfigureAwait(false);
        using (IProducer<string, byte[]> producer = Producer(node))
        {
            _ = KafkaClients.ProduceAll(producer, Topic, count, i => new Message<string, byte[]> { Key = "event", Value = Body(0, i) }, WindowMax);
        }

        long logBytesWritten = node.TopicBytes(Topic);
        List<(int Groups, long FewestRead, long LogBytes)> logRows = [];
        foreach (int groups in sizes.FanOutGroups)
        {
            long fewest = Enumerable.Range(0, groups).Min(group => ReadAsGroup(node, Topic, 1, $"fanout-{groups}-group-{group}"));
            logRows.Add((groups, fewest, node.TopicBytes(Topic)));
        }

        // The queue: a fanout exchange copies each message into one queue per group.
        List<(int Groups, long DiskGrowth)> diskRows = [];
        foreach (int groups in sizes.FanOutGroups)
        {
            long before = ScratchDirectory.FileBytes(broker.DatabaseDirectory, string.Empty);
            string exchange = $"fanout-{groups}";
            await RabbitMqClients.DeclareFanOutAsync(rabbit, exchange, QueueNames(groups), cancellationToken).ConfigureAwait(false);
            await RabbitMqClients.PublishAsync(rabbit, exchange, string.Empty, count, i => Body(0, i), WindowMax, cancellationToken).ConfigureAwait(false);
            diskRows.Add((groups, ScratchDirectory.FileBytes(broker.DatabaseDirectory, string.Empty) - before));
        }

        IReadOnlyList<QueueStatus> queues = await broker.ListQueuesAsync().ConfigureAwait(false);
        List<FanOutRow> rows = [];
        foreach (((int groups, long fewestRead, long logBytes), (_, long diskGrowth)) in logRows.Zip(diskRows))
        {
            HashSet<string> names = [.. QueueNames(groups)];
            QueueStatus[] held = [.. queues.Where(queue => names.Contains(queue.Name))];
            long fewestDelivered = long.MaxValue;
            foreach (string queue in names)
            {
                long delivered = 0;
                await RabbitMqClients.ConsumeAsync(rabbit, queue, consumers: 1, prefetch: 500, count, (_, _) =>
                {
                    delivered++;
                    return Disposition.Ack;
                }, cancellationToken).ConfigureAwait(false);
                fewestDelivered = Math.Min(fewestDelivered, delivered);
            }

            rows.Add(new FanOutRow(groups, count, logBytesWritten, logBytes, fewestRead,
                held.Sum(queue => queue.Messages), held.Sum(queue => queue.MessageBytes), diskGrowth, fewestDelivered));
        }

        return rows;

        static IEnumerable<string> QueueNames(int groups) => Enumerable.Range(0, groups).Select(group => $"fanout-{groups}-queue-{group}");
    }

    /// <param name="Groups">Groups that each need every message.</param>
    /// <param name="Messages">Messages sent.</param>
    /// <param name="LogBytesWritten">The topic's bytes on disk once written.</param>
    /// <param name="LogBytes">The topic's bytes on disk after every group read it.</param>
    /// <param name="LogFewestRead">The fewest records one group read.</param>
    /// <param name="QueueMessages">Messages held by the group's queues together, before any was consumed.</param>
    /// <param name="QueueMessageBytes">Their body bytes (<c>rabbitmqctl list_queues message_bytes</c>).</param>
    /// <param name="QueueDiskGrowth">How much the broker's database directory grew while they were published.</param>
    /// <param name="QueueFewestDelivered">The fewest messages one group's queue delivered.</param>
    private sealed record FanOutRow(int Groups, long Messages, long LogBytesWritten, long LogBytes, long LogFewestRead,
        long QueueMessages, long QueueMessageBytes, long QueueDiskGrowth, long QueueFewestDelivered);
}
