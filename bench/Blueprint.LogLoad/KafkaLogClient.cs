using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Blueprint.LogLoad;

/// <summary>
/// Confluent.Kafka (librdkafka) against any Kafka-wire broker: acks=all, linger.ms and a large batch.size for the
/// producer, one partition, and a consumer assigned to it from the earliest offset (no group membership, no commits).
/// </summary>
internal sealed class KafkaLogClient(LoadOptions options) : ILogClient
{
    /// <summary>librdkafka's largest batch (batch.size must stay under message.max.bytes, 1 000 000 by default).</summary>
    private const int BatchBytesMax = 1_000_000;

    private IProducer<Null, byte[]>? _producer;

    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = options.Server }).Build();
        try
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = options.Topic, NumPartitions = 1, ReplicationFactor = 1 }]);
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
        {
        }
    }

    public void Append(byte[] payload, Action<Exception?> acknowledged)
    {
        _producer ??= new ProducerBuilder<Null, byte[]>(new ProducerConfig
        {
            BootstrapServers = options.Server,
            Acks = Acks.All,
            LingerMs = options.LingerMilliseconds,
            BatchSize = BatchBytesMax,
            BatchNumMessages = 100_000,
            QueueBufferingMaxMessages = LoadOptions.WindowMax * 2,
            QueueBufferingMaxKbytes = 1 << 21,
            EnableIdempotence = false,
            CompressionType = CompressionType.None,
            SocketNagleDisable = true,
            MessageTimeoutMs = 120_000,
        }).Build();
        _producer.Produce(options.Topic, new Message<Null, byte[]> { Value = payload }, report =>
            acknowledged(report.Error.IsError ? new KafkaException(report.Error) : null));
    }

    public Task ReadAsync(Func<ReadOnlyMemory<byte>, bool> onRecord, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() =>
        {
            using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
            {
                BootstrapServers = options.Server,
                GroupId = "log-load",
                EnableAutoCommit = false,
                EnableAutoOffsetStore = false,
                AutoOffsetReset = AutoOffsetReset.Earliest,
                SocketNagleDisable = true,
                FetchWaitMaxMs = 100,
            }).Build();
            consumer.Assign(new TopicPartitionOffset(options.Topic, 0, Offset.Beginning));
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                    if (result?.Message is { } message && !onRecord(message.Value))
                    {
                        return;
                    }
                }
            }
            finally
            {
                consumer.Close();
            }
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public ValueTask DisposeAsync()
    {
        if (_producer is { } producer)
        {
            producer.Flush(TimeSpan.FromSeconds(30));
            producer.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
