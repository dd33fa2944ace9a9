using System.Collections.Concurrent;
using System.Globalization;
using Blueprint.Testing.Faults;
using Confluent.Kafka;

namespace Blueprint.Log.Tests.Cluster;

/// <summary>Three brokers as processes, one replicated partition: what acks=all acknowledged survives the leader's kill -9.</summary>
public sealed class ReplicationTests
{
    [Fact]
    public async Task Killing_the_leader_under_acks_all_load_loses_no_acknowledged_record_and_reuses_no_offset()
    {
        await using var cluster = await LogClusterProcesses.StartAsync();
        const string topic = "replicated";
        await cluster.CreateTopicAsync(topic, 1, 3, new Dictionary<string, string> { ["min.insync.replicas"] = "2" });
        var before = await cluster.WaitForAsync(topic, 0, found => found.Leader > 0 && found.InSyncReplicas.Length == 3);
        Assert.Equal(3, before.Replicas.Length);

        var acknowledged = new ConcurrentDictionary<long, long>();
        var failed = 0;
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig
        {
            BootstrapServers = cluster.Bootstrap,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 2,
            MessageTimeoutMs = 60_000,
            TopicMetadataRefreshIntervalMs = 1000,
        }).Build())
        {
            var killed = false;
            var afterKill = 0;
            for (long i = 0; afterKill < 3_000; i++)
            {
                var sequence = i;
                Produce(producer, topic, sequence, report =>
                {
                    if (report.Error.Code == ErrorCode.NoError)
                    {
                        acknowledged[sequence] = report.Offset.Value;
                    }
                    else
                    {
                        Interlocked.Increment(ref failed);
                    }
                });
                if (killed)
                {
                    afterKill++;
                }
                else if (acknowledged.Count >= 3_000)
                {
                    cluster.Kill(before.Leader);
                    killed = true;
                }
            }

            producer.Flush(TimeSpan.FromSeconds(60));
        }

        var after = await cluster.WaitForAsync(topic, 0, found => found.Leader > 0 && found.Leader != before.Leader);
        Assert.DoesNotContain(before.Leader, after.InSyncReplicas);
        Assert.True(acknowledged.Count >= 5_000, $"only {acknowledged.Count} acknowledged, {failed} failed");

        // Every acknowledged record is on the new leader, once, at the offset its acknowledgement gave.
        var stored = ReadAll(cluster.Bootstrap, topic);
        Assert.Equal(stored.Count, stored.Select(record => record.Offset).Distinct().Count());
        Assert.Equal(stored.Count, stored.Select(record => record.Value).Distinct().Count());
        var byValue = stored.ToDictionary(record => record.Value, record => record.Offset);
        var lost = acknowledged.Keys.Where(value => !byValue.ContainsKey(value)).Order().Take(10).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged records lost, first: {string.Join(", ", lost)} (stored {stored.Count}, acknowledged {acknowledged.Count})");
        var moved = acknowledged.Where(pair => byValue[pair.Key] != pair.Value).Take(5).ToList();
        Assert.True(moved.Count == 0, $"records are at other offsets than acknowledged: {string.Join(", ", moved.Select(pair => $"{pair.Key}@{pair.Value}->{byValue[pair.Key]}"))}");

        // The old leader comes back as a follower, cuts whatever it had that the new leader does not, and rejoins the ISR.
        await cluster.RestartAsync(before.Leader);
        await cluster.WaitForAsync(topic, 0, found => found.InSyncReplicas.Length == 3);

        // Whoever leads now, the log reads the same: the restarted broker kept no record of its own.
        Assert.Equal(stored, ReadAll(cluster.Bootstrap, topic));
    }

    [Fact]
    public async Task A_leader_stopped_gracefully_hands_its_leadership_over_without_waiting_for_its_session_to_expire()
    {
        // A session of ten minutes: only the controlled shutdown can move the leadership within the test's deadline.
        await using var cluster = await LogClusterProcesses.StartAsync(sessionTimeoutMs: 600_000);
        const string topic = "handover";
        await cluster.CreateTopicAsync(topic, 1, 3);
        var before = await cluster.WaitForAsync(topic, 0, found => found.Leader > 0 && found.InSyncReplicas.Length == 3);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.Bootstrap, Acks = Acks.All }).Build())
        {
            await producer.ProduceAsync(topic, new Message<Null, string> { Value = "1" }, TestContext.Current.CancellationToken);
        }

        Assert.Equal(0, await cluster.StopAsync(before.Leader));
        var stoppedOutput = cluster.Output(before.Leader);
        var after = await cluster.WaitForAsync(topic, 0, found => found.Leader > 0 && found.Leader != before.Leader, failure: () => stoppedOutput);
        Assert.DoesNotContain(before.Leader, after.InSyncReplicas);
        Assert.Equal([(0L, 1L)], ReadAll(cluster.Bootstrap, topic));
    }

    [Fact]
    public async Task A_group_resumes_at_its_commit_after_the_coordinator_is_killed()
    {
        await using var cluster = await LogClusterProcesses.StartAsync();
        const string topic = "jobs";
        await cluster.CreateTopicAsync(topic, 1, 3, new Dictionary<string, string> { ["min.insync.replicas"] = "2" });
        await cluster.WaitForAsync(topic, 0, found => found.Leader > 0 && found.InSyncReplicas.Length == 3);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.Bootstrap, Acks = Acks.All }).Build())
        {
            for (var i = 0; i < 10; i++)
            {
                await producer.ProduceAsync(topic, new Message<Null, string> { Value = Text(i) }, TestContext.Current.CancellationToken);
            }
        }

        var config = new ConsumerConfig
        {
            BootstrapServers = cluster.Bootstrap,
            GroupId = "workers",
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = 6000,
        };
        using (var first = new ConsumerBuilder<Ignore, string>(config).Build())
        {
            first.Subscribe(topic);
            ConsumeResult<Ignore, string>? last = null;
            for (var read = 0; read < 4;)
            {
                if (first.Consume(TimeSpan.FromSeconds(30)) is { } result)
                {
                    last = result;
                    read++;
                }
            }

            first.Commit(last!);
            first.Close();
        }

        // The coordinator is the live broker with the smallest id: 1. Its death must not lose the commit.
        cluster.Kill(1);
        await cluster.WaitBrokersAsync(2);
        using var second = new ConsumerBuilder<Ignore, string>(config).Build();
        second.Subscribe(topic);
        var deadline = DateTime.UtcNow + LogClusterProcesses.Deadline;
        ConsumeResult<Ignore, string>? resumed = null;
        while (resumed is null && DateTime.UtcNow < deadline)
        {
            resumed = second.Consume(TimeSpan.FromSeconds(1));
        }

        Assert.NotNull(resumed);
        Assert.Equal((4L, "4"), (resumed.Offset.Value, resumed.Message.Value));
        second.Close();
    }

    [Fact]
    public async Task A_follower_cut_off_from_its_leader_leaves_the_isr_and_rejoins_after_the_link_heals()
    {
        // Every broker fetches from every other through its own proxy, so one follower-to-leader link can be cut alone;
        // the metadata quorum's traffic goes direct, so the follower keeps its session and is not fenced.
        var proxies = new Dictionary<(int From, int To), FaultProxy>();
        var cluster = await LogClusterProcesses.StartAsync(
            3,
            (from, kafkaPorts) => string.Join(',', Enumerable.Range(1, 3).Where(to => to != from).Select(to => $"{Text(to)}=127.0.0.1:{Text(ProxyPort(from, to, kafkaPorts[to - 1]))}")),
            replicaLagMs: 1500);
        try
        {
            const string topic = "cut";
            await cluster.CreateTopicAsync(topic, 1, 3, new Dictionary<string, string> { ["min.insync.replicas"] = "2" });
            var full = await cluster.WaitForAsync(topic, 0, found => found.Leader > 0 && found.InSyncReplicas.Length == 3);
            var follower = full.Replicas.First(replica => replica != full.Leader);

            proxies[(follower, full.Leader)].Blackhole();
            var shrunk = await cluster.WaitForAsync(topic, 0, found => !found.InSyncReplicas.Contains(follower));
            Assert.Equal(full.Leader, shrunk.Leader);
            Assert.Equal(2, shrunk.InSyncReplicas.Length);

            // acks=all goes on with the two in sync (min.insync.replicas = 2).
            using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.Bootstrap, Acks = Acks.All, MessageTimeoutMs = 30_000 }).Build())
            {
                for (var i = 0; i < 100; i++)
                {
                    var delivered = await producer.ProduceAsync(topic, new Message<Null, string> { Value = Text(i) }, TestContext.Current.CancellationToken);
                    Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
                }
            }

            proxies[(follower, full.Leader)].Unblackhole();
            var rejoined = await cluster.WaitForAsync(topic, 0, found => found.InSyncReplicas.Length == 3);
            Assert.Equal(full.Leader, rejoined.Leader);
        }
        finally
        {
            await cluster.DisposeAsync();
            foreach (var proxy in proxies.Values)
            {
                await proxy.DisposeAsync();
            }
        }

        int ProxyPort(int from, int to, int kafkaPort)
        {
            if (!proxies.TryGetValue((from, to), out var proxy))
            {
                proxy = FaultProxy.Start(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, kafkaPort));
                proxies[(from, to)] = proxy;
            }

            return proxy.Port;
        }
    }

    private static void Produce(IProducer<Null, string> producer, string topic, long sequence, Action<DeliveryReport<Null, string>> report)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, new Message<Null, string> { Value = Text(sequence) }, report);
                producer.Poll(TimeSpan.Zero);
                return;
            }
            catch (ProduceException<Null, string> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    private static List<(long Offset, long Value)> ReadAll(string bootstrap, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = $"check-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var records = new List<(long Offset, long Value)>();
        var deadline = DateTime.UtcNow + LogClusterProcesses.Deadline;
        while (DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (result is null)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                break;
            }

            records.Add((result.Offset.Value, long.Parse(result.Message.Value, CultureInfo.InvariantCulture)));
        }

        return records;
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
