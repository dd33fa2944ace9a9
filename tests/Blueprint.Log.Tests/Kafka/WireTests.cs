using System.Buffers;
using Blueprint.Log.Kafka;
using Blueprint.Log.Kafka.Protocol;
using Blueprint.Log.Records;

namespace Blueprint.Log.Tests.Kafka;

/// <summary>Requests built with the codec and sent over a socket: answers a client library would not provoke.</summary>
public sealed class WireTests
{
    [Fact]
    public async Task A_batch_with_a_bad_crc_is_refused_with_corrupt_message_and_nothing_is_stored()
    {
        await using var node = await LogNode.StartAsync();
        await node.KcatAsync("first\n", "-P", "-t", "crc");
        var batch = new RecordBatchBuilder().Add(1_700_000_000_000, null, "tampered"u8.ToArray()).Build();
        batch[^1] ^= 0x5a;

        var response = await ProduceAsync(node, "crc", batch, acks: 1);

        var partition = Assert.Single(Assert.Single(response.Responses).Partitions);
        Assert.Equal(ErrorCode.CorruptMessage, partition.ErrorCode);
        var stored = await node.KcatAsync(null, "-C", "-t", "crc", "-o", "beginning", "-e", "-f", "%s\n");
        Assert.Equal(["first"], stored.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Invalid_acks_and_unknown_partitions_get_kafkas_codes()
    {
        await using var node = await LogNode.StartAsync();
        await node.KcatAsync("x\n", "-P", "-t", "acks");
        var batch = new RecordBatchBuilder().Add(1_700_000_000_000, null, "v"u8.ToArray()).Build();

        var badAcks = await ProduceAsync(node, "acks", batch, acks: 2);
        var noPartition = await ProduceAsync(node, "acks", batch, acks: 1, partition: 7);
        var noTopic = await ProduceAsync(node, "never-created", batch, acks: 1);

        Assert.Equal(ErrorCode.InvalidRequiredAcks, badAcks.Responses[0].Partitions[0].ErrorCode);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, noPartition.Responses[0].Partitions[0].ErrorCode);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, noTopic.Responses[0].Partitions[0].ErrorCode);
    }

    [Fact]
    public async Task Acks_all_is_refused_when_the_topic_wants_more_in_sync_replicas_than_there_are()
    {
        await using var node = await LogNode.StartAsync();
        var broker = (LogBroker)node.Node.Node.Services.GetService(typeof(LogBroker))!;
        await broker.Topics.CreateAsync("strict", 1, -1, new Dictionary<string, string> { ["min.insync.replicas"] = "2" }, validateOnly: false, TestContext.Current.CancellationToken);
        var batch = new RecordBatchBuilder().Add(1_700_000_000_000, null, "v"u8.ToArray()).Build();

        var all = await ProduceAsync(node, "strict", batch, acks: -1);
        var leader = await ProduceAsync(node, "strict", batch, acks: 1);

        Assert.Equal(ErrorCode.NotEnoughReplicas, all.Responses[0].Partitions[0].ErrorCode);
        Assert.Equal(ErrorCode.None, leader.Responses[0].Partitions[0].ErrorCode);
        Assert.Equal(0, leader.Responses[0].Partitions[0].BaseOffset);
    }

    [Fact]
    public async Task Metadata_does_not_create_topics_when_auto_creation_is_off()
    {
        await using var node = await LogNode.StartAsync(settings: new Dictionary<string, string?> { ["Log:AutoCreateTopics"] = "false" });
        using var client = await BadInputTests.ConnectAsync(node);
        var request = new MetadataRequest { Topics = [new MetadataRequest.MetadataRequestTopic { Name = "absent" }], AllowAutoTopicCreation = true };

        var response = await RoundTripAsync<MetadataResponse>(client, ApiKey.Metadata, 8, request);

        var topic = Assert.Single(response.Topics);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, topic.ErrorCode);
        var broker = (LogBroker)node.Node.Node.Services.GetService(typeof(LogBroker))!;
        Assert.False(broker.Topics.TryGet("absent", out _));
    }

    private static async Task<ProduceResponse> ProduceAsync(LogNode node, string topic, byte[] batch, short acks, int partition = 0)
    {
        using var client = await BadInputTests.ConnectAsync(node);
        var request = new ProduceRequest
        {
            Acks = acks,
            TimeoutMs = 5000,
            Topics = [new ProduceRequest.TopicProduceData { Name = topic, Partitions = [new ProduceRequest.PartitionProduceData { PartitionIndex = partition, Records = batch }] }],
        };
        return await RoundTripAsync<ProduceResponse>(client, ApiKey.Produce, 8, request);
    }

    private static async Task<T> RoundTripAsync<T>(System.Net.Sockets.TcpClient client, ApiKey api, short version, IKafkaMessage request)
        where T : IKafkaMessage<T>
    {
        var output = new ArrayBufferWriter<byte>();
        KafkaFrame.WriteRequest(output, new RequestHeader(api, version, 77, "wire-test"), request);
        await client.GetStream().WriteAsync(output.WrittenMemory, TestContext.Current.CancellationToken);
        var frame = await BadInputTests.ReadFrameAsync(client);
        var reader = new KafkaReader(frame);
        var header = ResponseHeader.Read(ref reader, ApiVersionTable.ResponseHeaderVersion(api, version));
        Assert.Equal(77, header.CorrelationId);
        return T.Read(ref reader, version);
    }
}
