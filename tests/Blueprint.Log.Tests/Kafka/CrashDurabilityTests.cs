using System.Collections.Concurrent;
using System.Globalization;
using Confluent.Kafka;

namespace Blueprint.Log.Tests.Kafka;

/// <summary>kill -9 of a node in the middle of an idempotent producer's stream: what was acknowledged is there after the restart, once, in order.</summary>
public sealed class CrashDurabilityTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Every_acknowledged_record_survives_kill_9_in_order_without_duplicates()
    {
        using var data = new TempDirectory("blueprint-log-crash");
        var kafkaPort = FreePorts.Block(1);
        var httpPort = FreePorts.Block(1);
        var arguments = new[]
        {
            "run", "--modules", "log", "--data-dir", data.Path,
            "--kafka-port", Text(kafkaPort), "--http-port", Text(httpPort),
        };
        var bootstrap = $"127.0.0.1:{Text(kafkaPort)}";
        var acknowledged = new ConcurrentQueue<long>();

        await using (var node = NodeProcess.Start(arguments, data.Path))
        {
            await node.WaitForLineAsync(line => line.Contains("Press Ctrl-C to stop", StringComparison.Ordinal), Deadline);
            using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
            {
                BootstrapServers = bootstrap,
                EnableIdempotence = true,
                Acks = Acks.All,
                LingerMs = 1,
                MessageTimeoutMs = 5_000,
            }).Build();

            // Produce until well past the kill; a delivery report without error is an acknowledgement.
            var killed = false;
            var afterKill = 0;
            for (long i = 0; afterKill < 2_000; i++)
            {
                var sequence = i;
                while (true)
                {
                    try
                    {
                        producer.Produce("crash", new Message<Null, string> { Value = Text(sequence) }, report =>
                        {
                            if (report.Error.Code == Confluent.Kafka.ErrorCode.NoError)
                            {
                                acknowledged.Enqueue(sequence);
                            }
                        });
                        break;
                    }
                    catch (ProduceException<Null, string> e) when (e.Error.Code == Confluent.Kafka.ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(50));
                    }
                }

                if (killed)
                {
                    afterKill++;
                }
                else if (acknowledged.Count >= 5_000)
                {
                    node.Kill();
                    killed = true;
                }

                producer.Poll(TimeSpan.Zero);
            }

            Assert.True(killed, $"the node was not killed: {acknowledged.Count} acknowledged");
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        Assert.True(acknowledged.Count >= 5_000, $"only {acknowledged.Count} acknowledged");
        await using var restarted = NodeProcess.Start(arguments, data.Path);
        await restarted.WaitForLineAsync(line => line.Contains("Press Ctrl-C to stop", StringComparison.Ordinal), Deadline);
        var stored = ReadAll(bootstrap, "crash");

        // No duplicates: each value once. In order: the values are increasing, as produced.
        Assert.Equal(stored.Count, stored.Distinct().Count());
        Assert.Equal(stored.Order(), stored);
        var missing = acknowledged.Except(stored).Order().Take(10).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged records lost, first: {string.Join(", ", missing)} (stored {stored.Count}, acknowledged {acknowledged.Count})");
        restarted.Terminate();
        await restarted.WaitForExitAsync(Deadline);
    }

    private static List<long> ReadAll(string bootstrap, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = $"check-{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        }).Build();
        consumer.Subscribe(topic);
        var values = new List<long>();
        var deadline = DateTime.UtcNow + Deadline;
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

            values.Add(long.Parse(result.Message.Value, CultureInfo.InvariantCulture));
        }

        consumer.Close();
        return values;
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
