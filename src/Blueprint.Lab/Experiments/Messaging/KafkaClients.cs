using System.Diagnostics;
using System.Text.Json;

using Blueprint.Lab.Processes;

using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Blueprint.Lab.Experiments.Messaging;

/// <summary>
/// Confluent.Kafka (librdkafka) clients of the log as the experiments use them: every call bounded in time, librdkafka's
/// own log silenced (the lab prints its results, not client chatter), and request counts read from its statistics.
/// </summary>
internal static class KafkaClients
{
    /// <summary>How often librdkafka reports its statistics (request and message counters).</summary>
    public const int StatisticsIntervalMs = 100;

    /// <summary>How long one admin request, one flush or one offsets query may take.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A durable producer: acknowledged by the log after its fsync (acks=all), no idempotence, no compression.</summary>
    public static ProducerConfig Producer(string bootstrap, int lingerMs, int batchRecordsMax) => new()
    {
        BootstrapServers = bootstrap,
        Acks = Acks.All,
        LingerMs = lingerMs,
        BatchNumMessages = batchRecordsMax,
        BatchSize = 1_000_000,
        EnableIdempotence = false,
        CompressionType = CompressionType.None,
        SocketNagleDisable = true,
        MessageTimeoutMs = (int)RequestTimeout.TotalMilliseconds,
        SocketTimeoutMs = (int)RequestTimeout.TotalMilliseconds,
        StatisticsIntervalMs = StatisticsIntervalMs,
    };

    /// <summary>A consumer of <paramref name="group"/> that starts at the earliest offset and never commits by itself.</summary>
    public static ConsumerConfig Consumer(string bootstrap, string group) => new()
    {
        BootstrapServers = bootstrap,
        GroupId = group,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoCommit = false,
        SocketNagleDisable = true,
        FetchWaitMaxMs = 100,
        SessionTimeoutMs = 10_000,
        HeartbeatIntervalMs = 500,
        SocketTimeoutMs = (int)RequestTimeout.TotalMilliseconds,
        StatisticsIntervalMs = StatisticsIntervalMs,
    };

    /// <summary>Builds a producer whose statistics go to <paramref name="statistics"/>.</summary>
    public static IProducer<TKey, byte[]> BuildProducer<TKey>(ProducerConfig config, ClientStatistics statistics) =>
        new ProducerBuilder<TKey, byte[]>(config)
            .SetLogHandler((_, _) => { })
            .SetErrorHandler((_, _) => { })
            .SetStatisticsHandler((_, json) => statistics.Update(json))
            .Build();

    /// <summary>
    /// Builds a consumer whose statistics go to <paramref name="statistics"/>; <paramref name="assignment"/>, when given,
    /// hears the partitions the group assigns it each time they change (none while a rebalance revokes them).
    /// </summary>
    public static IConsumer<string, byte[]> BuildConsumer(ConsumerConfig config, ClientStatistics statistics, Action<IReadOnlyList<int>>? assignment = null) =>
        new ConsumerBuilder<string, byte[]>(config)
            .SetLogHandler((_, _) => { })
            .SetErrorHandler((_, _) => { })
            .SetStatisticsHandler((_, json) => statistics.Update(json))
            .SetPartitionsAssignedHandler((_, partitions) => assignment?.Invoke([.. partitions.Select(partition => partition.Partition.Value)]))
            .SetPartitionsRevokedHandler((_, _) => assignment?.Invoke([]))
            .Build();

    /// <summary>
    /// Sends <paramref name="count"/> records flat out with at most <paramref name="windowMax"/> unacknowledged, and
    /// returns when every one is acknowledged: the time from the first send to the last acknowledgement.
    /// </summary>
    public static TimeSpan ProduceAll<TKey>(IProducer<TKey, byte[]> producer, string topic, int count, Func<int, Message<TKey, byte[]>> message, int windowMax)
    {
        using SemaphoreSlim window = new(windowMax);
        long failed = 0;
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            RunInvariant.Holds(window.Wait(RequestTimeout), $"no acknowledgement from the log within {RequestTimeout.TotalSeconds:F0} s");
            producer.Produce(topic, message(i), report =>
            {
                if (report.Error.IsError)
                {
                    _ = Interlocked.Increment(ref failed);
                }

                _ = window.Release();
            });
        }

        Flush(producer);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
        RunInvariant.Holds(Interlocked.Read(ref failed) == 0, $"{failed} of {count} records to {topic} failed");
        return elapsed;
    }

    /// <summary>Creates a topic with <paramref name="partitions"/> partitions (replication factor 1: the log runs on one node).</summary>
    public static async Task CreateTopicAsync(string bootstrap, string topic, int partitions)
    {
        using IAdminClient admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap, SocketTimeoutMs = (int)RequestTimeout.TotalMilliseconds })
            .SetLogHandler((_, _) => { })
            .Build();
        await admin.CreateTopicsAsync(
            [new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }],
            new CreateTopicsOptions { RequestTimeout = RequestTimeout, OperationTimeout = RequestTimeout }).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until every record is acknowledged and its delivery report served. librdkafka's flush can return as soon as
    /// the last report is queued, before the client's poll thread has served it (the count it returns includes such
    /// reports), so it is called again until nothing is left. Fails after <see cref="RequestTimeout"/>.
    /// </summary>
    public static void Flush<TKey>(IProducer<TKey, byte[]> producer)
    {
        long started = Stopwatch.GetTimestamp();
        int left;
        while ((left = producer.Flush(TimeSpan.FromMilliseconds(100))) > 0)
        {
            RunInvariant.Holds(Stopwatch.GetElapsedTime(started) < RequestTimeout, $"{left} records still unacknowledged after {RequestTimeout.TotalSeconds:F0} s");
        }
    }

    /// <summary>
    /// Reads the records of <paramref name="partitions"/> up to their ends as of now, calling <paramref name="onRecord"/>
    /// for each, on the calling thread, and returns how many were read. Assigned from the beginning, or with
    /// <paramref name="asGroup"/> subscribed as a member of the consumer's group, starting where the group's committed
    /// offsets (or, for a new group, the reset policy) say.
    /// </summary>
    public static long ReadToEnd(IConsumer<string, byte[]> consumer, string topic, int partitions, Action<ConsumeResult<string, byte[]>> onRecord, TimeSpan deadline, bool asGroup = false)
    {
        Dictionary<int, long> ends = Enumerable.Range(0, partitions).ToDictionary(
            partition => partition,
            partition => consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), RequestTimeout).High.Value);
        if (asGroup)
        {
            consumer.Subscribe(topic);
        }
        else
        {
            consumer.Assign(ends.Keys.Select(partition => new TopicPartitionOffset(topic, partition, Offset.Beginning)));
        }

        HashSet<int> unfinished = [.. ends.Where(end => end.Value > 0).Select(end => end.Key)];
        long read = 0;
        long started = Stopwatch.GetTimestamp();
        while (unfinished.Count > 0)
        {
            RunInvariant.Holds(Stopwatch.GetElapsedTime(started) < deadline, $"read {read} records of {topic}, partitions {string.Join(',', unfinished)} unfinished after {deadline.TotalSeconds:F0} s");
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { Message: not null } result)
            {
                onRecord(result);
                read++;
                if (result.Offset.Value + 1 >= ends[result.Partition.Value])
                {
                    _ = unfinished.Remove(result.Partition.Value);
                }
            }
        }

        return read;
    }
}

/// <summary>The counters of a librdkafka client's latest statistics report: produce and fetch requests, records sent and received.</summary>
internal sealed class ClientStatistics
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets the produce requests sent so far.</summary>
    public long ProduceRequests { get; private set; }

    /// <summary>Gets the fetch requests sent so far.</summary>
    public long FetchRequests { get; private set; }

    /// <summary>Gets the records sent so far.</summary>
    public long RecordsSent { get; private set; }

    /// <summary>Gets the records received so far.</summary>
    public long RecordsReceived { get; private set; }

    /// <summary>Takes a statistics report (librdkafka's JSON: <c>txmsgs</c>, <c>rxmsgs</c>, <c>brokers.*.req</c>).</summary>
    public void Update(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        long produce = 0, fetch = 0;
        foreach (JsonProperty broker in root.GetProperty("brokers").EnumerateObject())
        {
            if (broker.Value.TryGetProperty("req", out JsonElement requests))
            {
                produce += requests.TryGetProperty("Produce", out JsonElement p) ? p.GetInt64() : 0;
                fetch += requests.TryGetProperty("Fetch", out JsonElement f) ? f.GetInt64() : 0;
            }
        }

        TaskCompletionSource reported;
        lock (_gate)
        {
            ProduceRequests = produce;
            FetchRequests = fetch;
            RecordsSent = root.GetProperty("txmsgs").GetInt64();
            RecordsReceived = root.GetProperty("rxmsgs").GetInt64();
            reported = _next;
            _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        reported.SetResult();
    }

    /// <summary>
    /// Waits for a report made after this call, so it counts everything done before it. A consumer reports only from
    /// inside its poll calls: <paramref name="poll"/> is called meanwhile (null for a producer, which polls by itself).
    /// </summary>
    public void WaitForNextReport(Action? poll, TimeSpan deadline)
    {
        long started = Stopwatch.GetTimestamp();

        // A report in progress may have read its counters before this call: wait for the one after it too.
        for (int reports = 0; reports < 2; reports++)
        {
            Task next;
            lock (_gate)
            {
                next = _next.Task;
            }

            while (!next.IsCompleted)
            {
                TimeSpan left = deadline - Stopwatch.GetElapsedTime(started);
                RunInvariant.Holds(left > TimeSpan.Zero, $"no client statistics within {deadline.TotalSeconds:F0} s");
                if (poll is null)
                {
                    _ = next.Wait(left);
                }
                else
                {
                    poll();
                }
            }
        }
    }
}
