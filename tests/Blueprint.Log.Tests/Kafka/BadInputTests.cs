using System.Buffers.Binary;
using System.Net.Sockets;

namespace Blueprint.Log.Tests.Kafka;

/// <summary>Malformed, oversized and unknown requests on the Kafka port: Kafka's error or a closed connection, and the broker keeps serving.</summary>
public sealed class BadInputTests
{
    [Fact]
    public async Task An_oversized_frame_closes_that_connection_only()
    {
        await using var node = await LogNode.StartAsync(settings: new Dictionary<string, string?> { ["Log:MaxRequestBytes"] = "4096", ["Log:MaxMessageBytes"] = "2048" });
        using var client = await ConnectAsync(node);
        var frame = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(frame, 4097);
        await client.GetStream().WriteAsync(frame, TestContext.Current.CancellationToken);

        Assert.Equal(0, await ReadToEndAsync(client));
        await AssertStillServesAsync(node);
    }

    [Fact]
    public async Task A_negative_size_closes_that_connection_only()
    {
        await using var node = await LogNode.StartAsync();
        using var client = await ConnectAsync(node);
        await client.GetStream().WriteAsync(new byte[] { 0xff, 0xff, 0xff, 0xf0, 1, 2, 3 }, TestContext.Current.CancellationToken);

        Assert.Equal(0, await ReadToEndAsync(client));
        await AssertStillServesAsync(node);
    }

    [Fact]
    public async Task A_truncated_request_body_closes_that_connection_only()
    {
        await using var node = await LogNode.StartAsync();
        using var client = await ConnectAsync(node);

        // Metadata v1, correlation 7, client id "x", then a topic array claiming 1000 entries that are not there.
        byte[] body = [0, 3, 0, 1, 0, 0, 0, 7, 0, 1, (byte)'x', 0, 0, 0x03, 0xe8];
        await client.GetStream().WriteAsync(Frame(body), TestContext.Current.CancellationToken);

        Assert.Equal(0, await ReadToEndAsync(client));
        await AssertStillServesAsync(node);
    }

    [Fact]
    public async Task An_unknown_api_key_closes_that_connection_only()
    {
        await using var node = await LogNode.StartAsync();
        using var client = await ConnectAsync(node);
        byte[] body = [0x27, 0x0f, 0, 0, 0, 0, 0, 9, 0xff, 0xff];
        await client.GetStream().WriteAsync(Frame(body), TestContext.Current.CancellationToken);

        Assert.Equal(0, await ReadToEndAsync(client));
        await AssertStillServesAsync(node);
    }

    [Fact]
    public async Task An_unsupported_api_versions_version_is_answered_with_kafkas_error_and_the_supported_list()
    {
        await using var node = await LogNode.StartAsync();
        using var client = await ConnectAsync(node);
        byte[] body = [0, 18, 0, 99, 0, 0, 0, 42, 0xff, 0xff];
        await client.GetStream().WriteAsync(Frame(body), TestContext.Current.CancellationToken);

        var response = await ReadFrameAsync(client);
        Assert.Equal(42, BinaryPrimitives.ReadInt32BigEndian(response));
        Assert.Equal(35, BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(4)));
        var count = BinaryPrimitives.ReadInt32BigEndian(response.AsSpan(6));
        Assert.True(count >= 17, $"{count} APIs listed");
        var keys = Enumerable.Range(0, count).Select(i => BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(10 + (i * 6)))).ToList();
        Assert.Contains((short)0, keys);
        Assert.Contains((short)1, keys);
        Assert.Contains((short)18, keys);
    }

    internal static byte[] Frame(byte[] body)
    {
        var frame = new byte[body.Length + 4];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        return frame;
    }

    internal static async Task<TcpClient> ConnectAsync(LogNode node)
    {
        var client = new TcpClient { ReceiveTimeout = 30_000 };
        await client.ConnectAsync("127.0.0.1", node.KafkaPort, TestContext.Current.CancellationToken);
        return client;
    }

    internal static async Task<byte[]> ReadFrameAsync(TcpClient client)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var size = new byte[4];
        await client.GetStream().ReadExactlyAsync(size, timeout.Token);
        var frame = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        await client.GetStream().ReadExactlyAsync(frame, timeout.Token);
        return frame;
    }

    private static async Task<int> ReadToEndAsync(TcpClient client)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var total = 0;
        var buffer = new byte[1024];
        try
        {
            int read;
            while ((read = await client.GetStream().ReadAsync(buffer, timeout.Token)) > 0)
            {
                total += read;
            }
        }
        catch (IOException)
        {
            // A reset is a close too.
        }

        return total;
    }

    private static async Task AssertStillServesAsync(LogNode node)
    {
        var metadata = await node.KcatAsync(null, "-L");
        Assert.Contains("broker 1 at", metadata, StringComparison.Ordinal);
    }
}
