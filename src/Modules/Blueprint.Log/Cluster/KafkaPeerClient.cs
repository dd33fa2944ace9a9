using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Blueprint.Log.Kafka.Protocol;

namespace Blueprint.Log.Cluster;

/// <summary>
/// One connection from this broker to another broker's Kafka port, for a follower's Fetch and OffsetForLeaderEpoch:
/// the same wire protocol clients speak, as Kafka's replica fetchers do. One request at a time; every call has a deadline.
/// </summary>
internal sealed class KafkaPeerClient : IAsyncDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);
    private readonly TcpClient client;
    private readonly NetworkStream stream;
    private readonly int maxResponseBytes;
    private readonly ArrayBufferWriter<byte> output = new(4096);
    private int correlation;

    private KafkaPeerClient(TcpClient client, int maxResponseBytes)
    {
        this.client = client;
        this.maxResponseBytes = maxResponseBytes;
        stream = client.GetStream();
    }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> within two seconds.</summary>
    public static async Task<KafkaPeerClient> ConnectAsync(string host, int port, int maxResponseBytes, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(ConnectTimeout);
            await client.ConnectAsync(host, port, deadline.Token).ConfigureAwait(false);
            return new KafkaPeerClient(client, maxResponseBytes);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="request"/> at <paramref name="version"/> and reads its response within <paramref name="timeout"/>.</summary>
    public async Task<TResponse> SendAsync<TResponse>(ApiKey api, short version, IKafkaMessage request, TimeSpan timeout, CancellationToken cancellationToken)
        where TResponse : IKafkaMessage<TResponse>
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var id = ++correlation;
        output.ResetWrittenCount();
        KafkaFrame.WriteRequest(output, new RequestHeader(api, version, id, "blueprint-replica"), request);
        await stream.WriteAsync(output.WrittenMemory, deadline.Token).ConfigureAwait(false);

        var sizeBytes = new byte[4];
        await stream.ReadExactlyAsync(sizeBytes, deadline.Token).ConfigureAwait(false);
        var size = BinaryPrimitives.ReadInt32BigEndian(sizeBytes);
        if (size < 4 || size > maxResponseBytes)
        {
            throw new IOException($"a response of {size} bytes is outside 4 to {maxResponseBytes}");
        }

        var frame = new byte[size];
        await stream.ReadExactlyAsync(frame, deadline.Token).ConfigureAwait(false);
        return Parse<TResponse>(frame, api, version, id);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        client.Dispose();
        return ValueTask.CompletedTask;
    }

    private static TResponse Parse<TResponse>(byte[] frame, ApiKey api, short version, int id)
        where TResponse : IKafkaMessage<TResponse>
    {
        var reader = new KafkaReader(frame);
        var header = ResponseHeader.Read(ref reader, ApiVersionTable.ResponseHeaderVersion(api, version));
        if (header.CorrelationId != id)
        {
            throw new IOException($"response {header.CorrelationId} answers no request (expected {id})");
        }

        return TResponse.Read(ref reader, version);
    }
}
