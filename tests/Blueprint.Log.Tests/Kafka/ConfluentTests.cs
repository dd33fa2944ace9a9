using System.Collections.Concurrent;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Blueprint.Log.Tests.Kafka;

/// <summary>Confluent.Kafka (librdkafka) against the log: admin, every compression and acks setting, idempotence, a rebalancing group.</summary>
public sealed class ConfluentTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public static TheoryData<CompressionType, Acks> CompressionAndAcks()
    {
        var data = new TheoryData<CompressionType, Acks>();
        foreach (var compression in new[] { CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd })
        {
            foreach (var acks in new[] { Acks.None, Acks.Leader, Acks.All })
            {
                data.Add(compression, acks);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CompressionAndAcks))]
    public async Task Every_compression_and_acks_setting_delivers_in_order(CompressionType compression, Acks acks)
    {
        await using var node = await LogNode.StartAsync();
        var topic = $"produce-{compression}-{acks}".ToLowerInvariant();
        await CreateTopicAsync(node, topic, partitions: 1);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = node.Bootstrap,
            CompressionType = compression,
            Acks = acks,
            LingerMs = 5,
            EnableIdempotence = false,
            MessageTimeoutMs = 30_000,
        }).Build();

        var sent = Enumerable.Range(0, 300).Select(i => new Message<string, string> { Key = $"key-{i % 7}", Value = $"{compression}/{acks}/{i}/{new string('v', i % 50)}" }).ToList();
        var reports = new List<DeliveryResult<string, string>>();
        foreach (var message in sent)
        {
            reports.Add(await producer.ProduceAsync(topic, message, TestContext.Current.CancellationToken));
        }

        Assert.All(reports, report => Assert.True(report.Status == PersistenceStatus.Persisted || acks == Acks.None, $"status {report.Status}"));
        if (acks != Acks.None)
        {
            Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), reports.Select(report => report.Offset.Value));
        }

        var received = Consume(node, topic, expected: sent.Count);
        Assert.Equal(sent.Select(message => (message.Key, message.Value)), received.Select(message => (message.Message.Key, message.Message.Value)));
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), received.Select(message => message.Offset.Value));
    }

    [Fact]
    public async Task An_idempotent_producer_writes_each_message_once()
    {
        await using var node = await LogNode.StartAsync();
        await CreateTopicAsync(node, "idempotent", partitions: 3);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = node.Bootstrap,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 2,
        }).Build();

        var deliveries = Enumerable.Range(0, 2000)
            .Select(i => producer.ProduceAsync("idempotent", new Message<string, string> { Key = $"k{i % 31}", Value = $"m{i}" }, TestContext.Current.CancellationToken))
            .ToList();
        await Task.WhenAll(deliveries);

        var received = Consume(node, "idempotent", expected: 2000);
        Assert.Equal(2000, received.Select(message => message.Message.Value).Distinct().Count());
        foreach (var partition in received.GroupBy(message => message.Partition.Value))
        {
            // Per key, the order of sending is the order in the log.
            foreach (var key in partition.GroupBy(message => message.Message.Key))
            {
                var numbers = key.Select(message => int.Parse(message.Message.Value[1..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
                Assert.Equal(numbers.Order(), numbers);
            }
        }
    }

    [Fact]
    public async Task A_group_resumes_exactly_after_its_commit()
    {
        await using var node = await LogNode.StartAsync();
        await CreateTopicAsync(node, "resume", partitions: 1);
        await ProduceAsync(node, "resume", Enumerable.Range(0, 30).Select(i => $"m{i}"));

        using (var first = Consumer(node, "resumers"))
        {
            first.Subscribe("resume");
            ConsumeResult<string, string>? last = null;
            for (var i = 0; i < 12; i++)
            {
                last = first.Consume(Deadline) ?? throw new TimeoutException("no message");
            }

            first.Commit(last);
            Assert.Equal(11, last!.Offset.Value);
            first.Close();
        }

        using var second = Consumer(node, "resumers");
        second.Subscribe("resume");
        var next = second.Consume(Deadline) ?? throw new TimeoutException("no message after resume");
        Assert.Equal(12, next.Offset.Value);
        Assert.Equal("m12", next.Message.Value);
        second.Close();
    }

    [Fact]
    public async Task Committed_offsets_survive_a_restart_of_the_node()
    {
        using var data = new TempDirectory("blueprint-log-offsets");
        await using (var node = await LogNode.StartAsync(data.Path))
        {
            await CreateTopicAsync(node, "kept", partitions: 2);
            await ProduceAsync(node, "kept", Enumerable.Range(0, 40).Select(i => $"m{i}"));
            using var consumer = Consumer(node, "keepers");
            consumer.Subscribe("kept");
            var seen = 0;
            while (seen < 40)
            {
                if (consumer.Consume(Deadline) is { Message: not null })
                {
                    seen++;
                }
            }

            consumer.Commit();
            consumer.Close();
        }

        await using var restarted = await LogNode.StartAsync(data.Path);
        await ProduceAsync(restarted, "kept", ["after-restart"]);
        using var resumed = Consumer(restarted, "keepers");
        resumed.Subscribe("kept");
        var next = resumed.Consume(Deadline) ?? throw new TimeoutException("nothing after the restart");
        Assert.Equal("after-restart", next.Message.Value);
        resumed.Close();
    }

    [Fact]
    public async Task Three_consumers_share_partitions_and_rebalance_when_one_leaves()
    {
        await using var node = await LogNode.StartAsync();
        await CreateTopicAsync(node, "shared", partitions: 6);
        await ProduceAsync(node, "shared", Enumerable.Range(0, 600).Select(i => $"before-{i}"));

        var assignments = new ConcurrentDictionary<int, IReadOnlyList<int>>();
        var seen = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        using var stopFirst = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        var loops = Enumerable.Range(0, 3).Select(index => Task.Run(() =>
        {
            var token = index == 0 ? stopFirst.Token : stop.Token;
            using var consumer = new ConsumerBuilder<string, string>(ConsumerConfig(node, "sharers"))
                .SetPartitionsAssignedHandler((_, partitions) => assignments[index] = [.. partitions.Select(partition => partition.Partition.Value)])
                .SetPartitionsRevokedHandler((_, _) => assignments[index] = [])
                .Build();
            consumer.Subscribe("shared");
            while (!token.IsCancellationRequested)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (result is { Message: not null })
                {
                    seen.AddOrUpdate(result.Message.Value, 1, (_, count) => count + 1);
                }
            }

            consumer.Close();
            assignments[index] = [];
        })).ToList();

        await Eventually.TrueAsync(
            () => assignments.Count == 3 && assignments.Values.All(partitions => partitions.Count == 2) && seen.Count == 600,
            Deadline,
            () => $"assignments {Describe(assignments)}, seen {seen.Count}",
            TestContext.Current.CancellationToken);
        Assert.Equal(Enumerable.Range(0, 6), assignments.Values.SelectMany(partitions => partitions).Order());

        await stopFirst.CancelAsync();
        await loops[0];
        await Eventually.TrueAsync(
            () => assignments.TryGetValue(1, out var one) && assignments.TryGetValue(2, out var two) && one.Count + two.Count == 6 && one.Count > 0 && two.Count > 0,
            Deadline,
            () => $"after the leave: {Describe(assignments)}",
            TestContext.Current.CancellationToken);
        Assert.Equal(Enumerable.Range(0, 6), assignments[1].Concat(assignments[2]).Order());

        await ProduceAsync(node, "shared", Enumerable.Range(0, 300).Select(i => $"after-{i}"));
        await Eventually.TrueAsync(() => seen.Count == 900, Deadline, () => $"seen {seen.Count} of 900", TestContext.Current.CancellationToken);
        await stop.CancelAsync();
        await Task.WhenAll(loops);
    }

    private static string Describe(ConcurrentDictionary<int, IReadOnlyList<int>> assignments) =>
        string.Join("; ", assignments.OrderBy(pair => pair.Key).Select(pair => $"{pair.Key}: [{string.Join(',', pair.Value)}]"));

    private static ConsumerConfig ConsumerConfig(LogNode node, string group) => new()
    {
        BootstrapServers = node.Bootstrap,
        GroupId = group,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoCommit = false,
        SessionTimeoutMs = 6000,
        HeartbeatIntervalMs = 500,
    };

    private static IConsumer<string, string> Consumer(LogNode node, string group) =>
        new ConsumerBuilder<string, string>(ConsumerConfig(node, group)).Build();

    private static async Task CreateTopicAsync(LogNode node, string topic, int partitions)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = node.Bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }]);
    }

    private static async Task ProduceAsync(LogNode node, string topic, IEnumerable<string> values)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = node.Bootstrap, LingerMs = 5 }).Build();
        var deliveries = values.Select((value, i) => producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{i}", Value = value })).ToList();
        await Task.WhenAll(deliveries);
    }

    private static List<ConsumeResult<string, string>> Consume(LogNode node, string topic, int expected)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = node.Bootstrap,
            GroupId = $"reader-{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var received = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow + Deadline;
        while (received.Count < expected && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message: not null } result)
            {
                received.Add(result);
            }
        }

        consumer.Close();
        Assert.True(received.Count == expected, $"received {received.Count} of {expected} records of {topic}");
        return received;
    }
}
