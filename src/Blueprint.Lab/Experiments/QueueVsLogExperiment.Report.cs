namespace Blueprint.Lab.Experiments;

/// <summary>The claims, their verdicts, the tables and the plot.</summary>
public sealed partial class QueueVsLogExperiment
{
    private const double BytesPerMebibyte = 1024 * 1024;

    private static ExperimentResult Report(Sizes sizes, Replay replay, IReadOnlyList<FanOutRow> fanOut, Ordering ordering, Throughput throughput)
    {
        long n = replay.Messages;
        FanOutRow widest = fanOut[^1];
        bool logOneCopy = fanOut.All(row => row.LogBytes == row.LogBytesWritten && row.LogFewestRead == row.Messages);
        bool queueCopies = fanOut.All(row => row.QueueMessages == row.Groups * row.Messages
            && row.QueueMessageBytes == row.Groups * row.Messages * MessageBytes && row.QueueFewestDelivered == row.Messages);
        double produceRatio = throughput.LogProducePerSecond / throughput.QueuePublishPerSecond;
        double consumeRatio = throughput.LogConsumePerSecond / throughput.QueueConsumePerSecond;

        List<Claim> claims =
        [
            new("replay", "A log keeps history: a new consumer group re-reads everything from offset 0. A queue deletes what was acknowledged.",
                $"after a first consumer processed all {Fmt.Int(n)} messages: a new log group reads {Fmt.Int(n)}; the queue holds 0 and a new consumer gets 0",
                $"log: first group {Fmt.Int(replay.LogFirst)}, new group {Fmt.Int(replay.LogReplayed)}; queue: first consumer {Fmt.Int(replay.QueueFirst)}, left in the queue {Fmt.Int(replay.QueueLeft)}, new consumer {Fmt.Int(replay.QueueReplayed)}",
                replay.LogFirst == n && replay.LogReplayed == n && replay.QueueFirst == n && replay.QueueLeft == 0 && replay.QueueReplayed == 0),
            new("fan-out", "A log serves N consumer groups from one copy; a queue needs an exchange and N queues, N copies.",
                $"for N = {string.Join(", ", fanOut.Select(row => row.Groups))} groups of {Fmt.Int(widest.Messages)} × {MessageBytes} B: the topic's bytes stay those written once and every group reads all; the queues hold N × {Fmt.Int(widest.Messages)} messages, N × {Fmt.Num(widest.Messages * (double)MessageBytes / BytesPerMebibyte, 2)} MiB of bodies, and each delivers all",
                $"N = {widest.Groups}: log {Fmt.Num(widest.LogBytes / BytesPerMebibyte, 2)} MiB on disk (written: {Fmt.Num(widest.LogBytesWritten / BytesPerMebibyte, 2)} MiB), fewest read by a group {Fmt.Int(widest.LogFewestRead)}; queues {Fmt.Int(widest.QueueMessages)} messages, {Fmt.Num(widest.QueueMessageBytes / BytesPerMebibyte, 2)} MiB of bodies, the broker's disk +{Fmt.Num(widest.QueueDiskGrowth / BytesPerMebibyte, 2)} MiB, fewest delivered by a queue {Fmt.Int(widest.QueueFewestDelivered)}",
                logOneCopy && queueCopies),
            new("order-per-key", "A log keeps per-key order across partitions (a keyed partitioner puts a key in one partition, read by one group member); competing consumers on one queue do not guarantee it.",
                $"{Fmt.Int(ordering.Messages)} messages over {ordering.Keys} keys, {OrderingConsumers} consumers on each side: 0 records processed after a later record of their key on the log; on the queue some, with competing consumers alone (prefetch {OrderingPrefetch}) or with failed deliveries requeued (a requeued message goes behind what its consumers already hold)",
                $"late records: log {Fmt.Int(ordering.Log.Late)} (duplicates {Fmt.Int(ordering.Log.Duplicates)}); queue {Fmt.Int(ordering.Competing.Late)} ({Fmt.Pct(ordering.Competing.Late / (double)ordering.Messages, 1)}), with a requeue of every {RequeueEvery}th message's first delivery {Fmt.Int(ordering.Requeued.Late)} ({Fmt.Pct(ordering.Requeued.Late / (double)ordering.Messages, 1)})",
                ordering.Log.Late == 0 && ordering.Log.Duplicates == 0 && ordering.Log.Count == ordering.Messages && (ordering.Competing.Late > 0 || ordering.Requeued.Late > 0)),
            new("throughput", "A log has higher throughput than a queue.",
                $"at matched durability (the log: acks=all, fsync before acknowledging; RabbitMQ: persistent messages on a durable queue, publisher confirms, which come once on disk), ≤ {Fmt.Int(WindowMax)} unconfirmed, one producer and one consumer each, {MessageBytes} B: the log's produce and consume rates above the queue's",
                $"produce {Fmt.Int((long)throughput.LogProducePerSecond)}/s vs publish {Fmt.Int((long)throughput.QueuePublishPerSecond)}/s ({Fmt.Num(produceRatio, 1)}×); consume {Fmt.Int((long)throughput.LogConsumePerSecond)}/s vs {Fmt.Int((long)throughput.QueueConsumePerSecond)}/s acknowledged one by one ({Fmt.Num(consumeRatio, 1)}×)",
                produceRatio > 1 && consumeRatio > 1),
        ];

        ResultTable fanOutTable = new($"Fan-out: {Fmt.Int(widest.Messages)} messages of {MessageBytes} B for N groups",
            ["groups", "log: bytes on disk", "log: fewest read by a group", "queues: messages held", "queues: body bytes", "broker's disk growth", "queues: fewest delivered"],
            [.. fanOut.Select(row => (IReadOnlyList<string>)[
                row.Groups.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Fmt.Int(row.LogBytes),
                Fmt.Int(row.LogFewestRead),
                Fmt.Int(row.QueueMessages),
                Fmt.Int(row.QueueMessageBytes),
                Fmt.Int(row.QueueDiskGrowth),
                Fmt.Int(row.QueueFewestDelivered),
            ])]);
        ResultTable orderingTable = new($"Per-key order: {Fmt.Int(ordering.Messages)} messages over {ordering.Keys} keys, {OrderingConsumers} consumers",
            ["side", "processed", "late (after a later record of the key)", "duplicates"],
        [
            [$"log: one group, {OrderingConsumers} partitions, keyed", Fmt.Int(ordering.Log.Count), Fmt.Int(ordering.Log.Late), Fmt.Int(ordering.Log.Duplicates)],
            [$"queue: competing consumers, prefetch {OrderingPrefetch}", Fmt.Int(ordering.Competing.Count), Fmt.Int(ordering.Competing.Late), Fmt.Int(ordering.Competing.Duplicates)],
            [$"queue: same, every {RequeueEvery}th first delivery requeued", Fmt.Int(ordering.Requeued.Count), Fmt.Int(ordering.Requeued.Late), Fmt.Int(ordering.Requeued.Duplicates)],
        ]);
        ResultTable throughputTable = new($"Throughput: {Fmt.Int(throughput.Messages)} messages of {MessageBytes} B, durable on both sides",
            ["side", "produce or publish per second", "consume per second"],
        [
            ["log (Blueprint, Kafka protocol)", Fmt.Int((long)throughput.LogProducePerSecond), Fmt.Int((long)throughput.LogConsumePerSecond)],
            ["queue (RabbitMQ, AMQP 0-9-1)", Fmt.Int((long)throughput.QueuePublishPerSecond), Fmt.Int((long)throughput.QueueConsumePerSecond)],
        ]);

        double[] groups = [.. fanOut.Select(row => (double)row.Groups)];
        PlotSpec plot = new("Fan-out: storage for N groups that each need every message", "consumer groups (N)", "MiB",
        [
            new PlotSeries("log: topic bytes on disk", groups, [.. fanOut.Select(row => row.LogBytes / BytesPerMebibyte)], Markers: true),
            new PlotSeries("queues: message bodies held", groups, [.. fanOut.Select(row => row.QueueMessageBytes / BytesPerMebibyte)], Markers: true),
            new PlotSeries("queues: broker's disk growth", groups, [.. fanOut.Select(row => row.QueueDiskGrowth / BytesPerMebibyte)], Markers: true),
        ]);
        return new ExperimentResult(ExperimentName,
            $"A Blueprint node (log module, fsync before acknowledging) and RabbitMQ 3.10 (classic durable queues, no plugins), both on loopback and started for the run; Confluent.Kafka and RabbitMQ.Client in this process. Sizes: replay {Fmt.Int(sizes.ReplayMessages)}, fan-out {Fmt.Int(sizes.FanOutMessages)}, ordering {Fmt.Int(sizes.OrderingMessages)}, throughput {Fmt.Int(sizes.ThroughputMessages)} messages.",
            claims, [fanOutTable, orderingTable, throughputTable], plot);
    }
}
