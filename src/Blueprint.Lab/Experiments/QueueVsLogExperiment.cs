using System.Buffers.Binary;

using Blueprint.Lab.Experiments.Messaging;
using Blueprint.Lab.Processes;

using Confluent.Kafka;

using RabbitMQ.Client;

namespace Blueprint.Lab.Experiments;

/// <summary>
/// A log (a Blueprint node over the Kafka protocol, Confluent.Kafka) against a queue (RabbitMQ 3.10 from Debian,
/// RabbitMQ.Client), both started as child processes on loopback, on the four differences the cheat sheet's "Kafka vs
/// RabbitMQ: log vs queue" stands for: replay, fan-out to several groups, per-key order with competing consumers, and
/// throughput at matched durability (the log fsyncs before acknowledging a produce with acks=all; RabbitMQ confirms a
/// persistent message on a durable queue once it is on disk).
/// </summary>
public sealed partial class QueueVsLogExperiment : AsyncExperiment
{
    private const string ExperimentName = "queue-vs-log";

    /// <summary>The body of every message in the replay, fan-out and throughput measurements.</summary>
    private const int MessageBytes = 1024;

    /// <summary>The most unconfirmed messages a publisher or producer has in flight, the same for both.</summary>
    private const int WindowMax = 5_000;

    /// <summary>How long the whole run may take before it is abandoned.</summary>
    private static readonly TimeSpan RunDeadline = TimeSpan.FromMinutes(5);

    /// <summary>How long one read of a topic may take.</summary>
    private static readonly TimeSpan ReadDeadline = TimeSpan.FromSeconds(60);

    /// <inheritdoc/>
    public override string Name => ExperimentName;

    /// <inheritdoc/>
    public override string Description => "A log (Blueprint, Kafka protocol) against a queue (RabbitMQ): replay from offset 0, fan-out to N groups from one copy, per-key order under competing consumers, throughput at matched durability.";

    /// <inheritdoc/>
    protected override async Task<ExperimentResult> RunAsync(ExperimentOptions options, IProgress<double> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        Sizes sizes = options.Quick ? Sizes.Quick : Sizes.Full;
        using CancellationTokenSource deadline = new(RunDeadline);
        CancellationToken cancellationToken = deadline.Token;
        (LogNodeProcess node, RabbitMqBroker broker) = await StartBothAsync(options.Environment, cancellationToken).ConfigureAwait(false);
        using (node)
        await using (broker)
        {
            ProgressSteps steps = new(progress, 4);
            await using IConnection rabbit = await RabbitMqClients.ConnectAsync(broker.Port, cancellationToken).ConfigureAwait(false);
            Replay replay = await ReplayAsync(node, rabbit, sizes.ReplayMessages, cancellationToken).ConfigureAwait(false);
            steps.Step();
            IReadOnlyList<FanOutRow> fanOut = await FanOutAsync(node, broker, rabbit, sizes, cancellationToken).ConfigureAwait(false);
            steps.Step();
            Ordering ordering = await OrderingAsync(node, rabbit, sizes, new Random(options.Seed), cancellationToken).ConfigureAwait(false);
            steps.Step();
            Throughput throughput = await ThroughputAsync(node, rabbit, sizes.ThroughputMessages, cancellationToken).ConfigureAwait(false);
            steps.Step();
            return Report(sizes, replay, fanOut, ordering, throughput);
        }
    }

    /// <summary>Starts the node and the broker side by side (the broker's first boot takes seconds); stops either if the other fails.</summary>
    private static async Task<(LogNodeProcess Node, RabbitMqBroker Broker)> StartBothAsync(LabEnvironment environment, CancellationToken cancellationToken)
    {
        Task<LogNodeProcess> node = LogNodeProcess.StartAsync(environment, cancellationToken);
        Task<RabbitMqBroker> broker = RabbitMqBroker.StartAsync(environment, cancellationToken);
        try
        {
            await Task.WhenAll(node, broker).ConfigureAwait(false);
            return (node.Result, broker.Result);
        }
        catch
        {
            if (node.IsCompletedSuccessfully)
            {
                node.Result.Dispose();
            }

            if (broker.IsCompletedSuccessfully)
            {
                await broker.Result.DisposeAsync().ConfigureAwait(false);
            }

            // The first failure in start order, with its own message (a missing RabbitMQ names the package).
            throw (node.Exception ?? broker.Exception)!.InnerException!;
        }
    }

    /// <summary>A message body: the key and the sequence number, padded to <paramref name="bytes"/>.</summary>
    private static byte[] Body(int key, long sequence, int bytes = MessageBytes)
    {
        byte[] body = new byte[bytes];
        BinaryPrimitives.WriteInt32LittleEndian(body, key);
        BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(4), sequence);
        return body;
    }

    private static (int Key, long Sequence) ReadBody(ReadOnlySpan<byte> body) =>
        (BinaryPrimitives.ReadInt32LittleEndian(body), BinaryPrimitives.ReadInt64LittleEndian(body[4..]));

    /// <summary>A durable producer for the comparisons: acks=all, a 5 ms linger; idempotent where order matters.</summary>
    private static IProducer<string, byte[]> Producer(LogNodeProcess node, bool idempotent = false)
    {
        ProducerConfig config = KafkaClients.Producer(node.Bootstrap, lingerMs: 5, batchRecordsMax: 10_000);
        config.EnableIdempotence = idempotent;
        return KafkaClients.BuildProducer<string>(config, new ClientStatistics());
    }

    /// <summary>Reads a whole topic as a member of <paramref name="group"/> and commits; returns the records read.</summary>
    private static long ReadAsGroup(LogNodeProcess node, string topic, int partitions, string group, Action<ConsumeResult<string, byte[]>>? onRecord = null)
    {
        using IConsumer<string, byte[]> consumer = KafkaClients.BuildConsumer(KafkaClients.Consumer(node.Bootstrap, group), new ClientStatistics());
        long read = KafkaClients.ReadToEnd(consumer, topic, partitions, record => onRecord?.Invoke(record), ReadDeadline, asGroup: true);
        if (read > 0)
        {
            _ = consumer.Commit();
        }

        consumer.Close();
        return read;
    }

    private sealed record Sizes(int ReplayMessages, int FanOutMessages, int[] FanOutGroups, int OrderingMessages, int OrderingKeys, int ThroughputMessages)
    {
        public static Sizes Full { get; } = new(10_000, 5_000, [1, 2, 4, 8], 20_000, 16, 100_000);

        public static Sizes Quick { get; } = new(1_000, 1_000, [1, 3], 2_000, 8, 5_000);
    }
}
