using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Blueprint.Log.Kafka.Protocol;
using Confluent.Kafka;
using KafkaErrorCode = Blueprint.Log.Kafka.ErrorCode;

namespace Blueprint.Log.Tests.Protocol;

/// <summary>
/// The codec against a foreign client: librdkafka 2.16 (through Confluent.Kafka) talks to a loopback server that is
/// nothing but this codec answering ApiVersions, Metadata and Produce. It checks the client accepts what the codec
/// writes and that the codec reads what the client sends, at the versions the client picks.
/// </summary>
public sealed class LibrdkafkaInteropTests
{
    private const string Topic = "codec-test";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AdminClient_GetMetadata_SeesTheCodecsBrokerAndTopic()
    {
        await using var server = new CodecOnlyServer();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = server.Address }).Build();

        Metadata metadata = await Task.Run(() => admin.GetMetadata(Topic, Deadline), TestContext.Current.CancellationToken);

        BrokerMetadata broker = Assert.Single(metadata.Brokers);
        Assert.Equal(server.Port, broker.Port);
        TopicMetadata topic = Assert.Single(metadata.Topics);
        Assert.Equal(Topic, topic.Topic);
        Assert.Equal(ErrorCode.NoError, topic.Error.Code);
        Assert.Equal([0, 1, 2], topic.Partitions.Select(p => p.PartitionId).Order());
        Assert.Contains((ApiKey.ApiVersions, (short)3), server.Seen);
        Assert.Contains((ApiKey.Metadata, (short)8), server.Seen);
    }

    [Fact]
    public async Task Producer_Produce_SendsARecordBatchTheCodecSlicesOut()
    {
        await using var server = new CodecOnlyServer();
        var config = new ProducerConfig { BootstrapServers = server.Address, Acks = Acks.Leader, MessageTimeoutMs = (int)Deadline.TotalMilliseconds };
        using var producer = new ProducerBuilder<Null, string>(config).Build();

        DeliveryResult<Null, string> result = await producer.ProduceAsync(
            new TopicPartition(Topic, 2), new Message<Null, string> { Value = "hello, codec" }, TestContext.Current.CancellationToken);

        Assert.Equal(2, result.Partition.Value);
        Assert.Equal(CodecOnlyServer.BaseOffset, result.Offset.Value);
        byte[] batch = Assert.Single(server.RecordSets);
        Assert.Equal(2, batch[16]); // record batch magic: format v2
        Assert.Contains("hello, codec", Encoding.UTF8.GetString(batch), StringComparison.Ordinal);
        Assert.Contains((ApiKey.Produce, (short)8), server.Seen);
    }

    /// <summary>A loopback server made of the codec alone: one broker (id 0) leading the three partitions of one topic.</summary>
    private sealed class CodecOnlyServer : IAsyncDisposable
    {
        public const long BaseOffset = 41;

        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;

        public CodecOnlyServer()
        {
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public string Address => $"127.0.0.1:{Port}";

        public ConcurrentBag<(ApiKey, short)> Seen { get; } = [];

        public ConcurrentQueue<byte[]> RecordSets { get; } = new();

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            var connections = new List<Task>();
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    connections.Add(ServeAsync(client));
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }

            await Task.WhenAll(connections).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        private async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                NetworkStream stream = client.GetStream();
                PipeReader input = PipeReader.Create(stream);
                try
                {
                    while (true)
                    {
                        ReadResult read = await input.ReadAsync(_stop.Token);
                        ReadOnlySequence<byte> buffer = read.Buffer;
                        var responses = new ArrayBufferWriter<byte>();
                        while (KafkaFrame.TryReadFrame(ref buffer, KafkaFrame.DefaultMaxFrameBytes, out ReadOnlySequence<byte> frame))
                        {
                            Answer(KafkaFrame.ToContiguous(frame), responses);
                        }

                        // Frames are handled (record sets copied) before the pipe may reuse their memory.
                        input.AdvanceTo(buffer.Start, buffer.End);
                        await stream.WriteAsync(responses.WrittenMemory, _stop.Token);
                        if (read.IsCompleted)
                        {
                            return;
                        }
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or IOException or KafkaProtocolException)
                {
                }
            }
        }

        private void Answer(ReadOnlyMemory<byte> payload, ArrayBufferWriter<byte> output)
        {
            var reader = new KafkaReader(payload);
            RequestHeader header = RequestHeader.Read(ref reader);
            Seen.Add((header.ApiKey, header.ApiVersion));
            if (!header.IsSupported)
            {
                if (header.ApiKey == ApiKey.ApiVersions)
                {
                    KafkaFrame.WriteApiVersionsUnsupported(output, header.CorrelationId);
                    return;
                }

                throw new KafkaProtocolException($"{header.ApiKey} v{header.ApiVersion} is not spoken here.");
            }

            IKafkaMessage response = header.ApiKey switch
            {
                ApiKey.ApiVersions => AnswerApiVersions(ref reader, header.ApiVersion),
                ApiKey.Metadata => AnswerMetadata(ref reader, header.ApiVersion),
                ApiKey.Produce => AnswerProduce(ref reader, header.ApiVersion),
                _ => throw new KafkaProtocolException($"{header.ApiKey} is not answered by this test server."),
            };
            KafkaFrame.WriteResponse(output, header, response);
        }

        private static ApiVersionsResponse AnswerApiVersions(ref KafkaReader reader, short version)
        {
            _ = ApiVersionsRequest.Read(ref reader, version);
            return ApiVersionsResponse.CreateSupported();
        }

        private MetadataResponse AnswerMetadata(ref KafkaReader reader, short version)
        {
            MetadataRequest request = MetadataRequest.Read(ref reader, version);
            var response = new MetadataResponse
            {
                Brokers = [new() { NodeId = 0, Host = "127.0.0.1", Port = Port }],
                ClusterId = "codec-cluster",
                ControllerId = 0,
            };
            foreach (string name in request.Topics?.Select(t => t.Name) ?? [Topic])
            {
                response.Topics.Add(name == Topic
                    ? new()
                    {
                        Name = Topic,
                        Partitions =
                        [
                            .. Enumerable.Range(0, 3).Select(index => new MetadataResponse.MetadataResponsePartition
                            {
                                PartitionIndex = index,
                                LeaderId = 0,
                                LeaderEpoch = 0,
                                ReplicaNodes = [0],
                                IsrNodes = [0],
                            }),
                        ],
                    }
                    : new() { Name = name, ErrorCode = KafkaErrorCode.UnknownTopicOrPartition });
            }

            return response;
        }

        private ProduceResponse AnswerProduce(ref KafkaReader reader, short version)
        {
            ProduceRequest request = ProduceRequest.Read(ref reader, version);
            var response = new ProduceResponse();
            foreach (ProduceRequest.TopicProduceData topic in request.Topics)
            {
                var result = new ProduceResponse.TopicProduceResponse { Name = topic.Name };
                foreach (ProduceRequest.PartitionProduceData partition in topic.Partitions)
                {
                    RecordSets.Enqueue(partition.Records?.ToArray() ?? []);
                    result.Partitions.Add(new() { PartitionIndex = partition.PartitionIndex, BaseOffset = BaseOffset, LogStartOffset = 0 });
                }

                response.Responses.Add(result);
            }

            return response;
        }
    }
}
