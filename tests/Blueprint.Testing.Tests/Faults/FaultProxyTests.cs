using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Blueprint.Testing.Faults;

namespace Blueprint.Testing.Tests.Faults;

public sealed class FaultProxyTests : IAsyncLifetime
{
    private EchoServer _server = null!;
    private FaultProxy _proxy = null!;

    public ValueTask InitializeAsync()
    {
        _server = EchoServer.Start();
        _proxy = FaultProxy.Start(_server.Endpoint);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Forwarding_LargePayloadsOnManyConnections_EchoesEveryByteUnchanged()
    {
        const int connections = 8;
        const int payloadBytes = 1024 * 1024;

        var echoes = Enumerable.Range(0, connections).Select(async seed =>
        {
            using var client = await Wire.ConnectAsync(_proxy.Endpoint);
            var payload = Wire.Bytes(seed, payloadBytes);
            var echo = await Wire.EchoAsync(client, payload, Wire.ArrivalDeadline);
            Assert.True(payload.AsSpan().SequenceEqual(echo), $"connection {seed}: the echo differs from what was sent");
        });
        await Task.WhenAll(echoes);

        Assert.Equal(connections * payloadBytes, _proxy.Counters.BytesForwarded(FaultDirections.Upstream));
        Assert.Equal(connections * payloadBytes, _proxy.Counters.BytesForwarded(FaultDirections.Downstream));
        Assert.Equal(connections, _proxy.Counters.ConnectionsAccepted);
    }

    [Fact]
    public async Task Latency_BothDirections_DelaysTheEchoByBothLatencies()
    {
        var latency = TimeSpan.FromMilliseconds(250);
        using var client = await Wire.ConnectAsync(_proxy.Endpoint);
        _proxy.SetLatency(latency);

        var started = Stopwatch.GetTimestamp();
        var echo = await Wire.EchoAsync(client, "ping"u8.ToArray(), Wire.ArrivalDeadline);

        Assert.Equal("ping"u8.ToArray(), echo);
        Assert.True(Stopwatch.GetElapsedTime(started) >= 2 * latency, $"the echo took {Stopwatch.GetElapsedTime(started)}, less than {2 * latency}");
    }

    [Fact]
    public async Task Latency_WithSeededJitter_KeepsTheOrderOfManySmallWrites()
    {
        await using var proxy = FaultProxy.Start(_server.Endpoint, new FaultProxyOptions { JitterRandom = new Random(7) });
        var latency = TimeSpan.FromMilliseconds(20);
        proxy.SetLatency(latency, jitter: TimeSpan.FromMilliseconds(30));
        using var client = await Wire.ConnectAsync(proxy.Endpoint);
        const int writes = 200;
        const int writeBytes = 64;
        var payload = Wire.Bytes(3, writes * writeBytes);

        var started = Stopwatch.GetTimestamp();
        var receiving = Wire.ReceiveAsync(client, payload.Length, Wire.ArrivalDeadline);
        for (var i = 0; i < writes; i++)
        {
            await client.SendAsync(payload.AsMemory(i * writeBytes, writeBytes), TestContext.Current.CancellationToken);
        }

        var echo = await receiving;

        Assert.True(payload.AsSpan().SequenceEqual(echo), "the echo is reordered or altered");
        Assert.True(Stopwatch.GetElapsedTime(started) >= 2 * latency);
    }

    [Fact]
    public async Task Latency_OnlyUpstream_DoesNotHoldTheDownstreamBack()
    {
        using var client = await Wire.ConnectEchoingAsync(_proxy.Endpoint, "hello");
        var receivedBefore = _server.BytesReceived;
        _proxy.SetLatency(TimeSpan.FromSeconds(30), directions: FaultDirections.Upstream);

        await client.SendAsync("held"u8.ToArray());
        await _server.PushAsync("pushed"u8.ToArray());
        var pushed = await Wire.ReceiveAsync(client, "pushed".Length, Wire.ArrivalDeadline);

        Assert.Equal("pushed"u8.ToArray(), pushed);
        Assert.Equal(receivedBefore, _server.BytesReceived);
    }

    [Fact]
    public async Task Blackhole_Both_ReadTimesOutWhileTheConnectionStaysOpenAndHealingLetsNewBytesThrough()
    {
        using var client = await Wire.ConnectEchoingAsync(_proxy.Endpoint, "before");
        _proxy.Blackhole();

        Assert.Null(await Wire.EchoAsync(client, "lost"u8.ToArray(), Wire.SilenceDeadline));
        Assert.False(client.Poll(0, SelectMode.SelectRead), "the blackholed connection was closed or reset");
        Assert.Equal("lost".Length, _proxy.Counters.BytesDropped(FaultDirections.Upstream));

        _proxy.Heal();
        var echo = await Wire.EchoAsync(client, "after"u8.ToArray(), Wire.ArrivalDeadline);

        Assert.Equal("after"u8.ToArray(), echo);
        Assert.Equal(1, _proxy.Counters.ConnectionsOpen);
    }

    [Theory]
    [InlineData(FaultDirections.Upstream)]
    [InlineData(FaultDirections.Downstream)]
    public async Task Blackhole_OneDirection_DropsOnlyThatDirection(FaultDirections blackholed)
    {
        using var client = await Wire.ConnectAsync(_proxy.Endpoint);
        _proxy.Blackhole(blackholed);
        var token = $"token-{blackholed}";

        var echo = await Wire.EchoAsync(client, Encoding.ASCII.GetBytes(token), Wire.SilenceDeadline);
        var serverGotIt = await _server.ReceivesWithinAsync(token, blackholed == FaultDirections.Upstream ? Wire.SilenceDeadline : Wire.ArrivalDeadline);

        Assert.Null(echo);
        Assert.Equal(blackholed != FaultDirections.Upstream, serverGotIt);
        Assert.Equal(token.Length, _proxy.Counters.BytesDropped(blackholed));
    }

    [Fact]
    public async Task Refuse_ResetsNewConnectionsAndLeavesOpenOnes()
    {
        using var open = await Wire.ConnectEchoingAsync(_proxy.Endpoint, "first");
        _proxy.Refuse();

        await Wire.AssertRefusedAsync(_proxy.Endpoint);

        await Wire.AssertEchoesAsync(open, "still");
        Assert.Equal(1, _proxy.Counters.ConnectionsRefused);
    }

    [Fact]
    public async Task Partition_CutsOpenConnectionsAndRefusesNewOnesUntilHealed()
    {
        using var open = await Wire.ConnectEchoingAsync(_proxy.Endpoint, "first");

        _proxy.Partition();

        await Wire.AssertResetAsync(open);
        await Wire.AssertRefusedAsync(_proxy.Endpoint);
        Assert.Equal(1, _proxy.Counters.ConnectionsReset);

        _proxy.Heal();
        using var healed = await Wire.ConnectEchoingAsync(_proxy.Endpoint, "again");
    }

    [Fact]
    public async Task Reset_ClientSeesAConnectionResetAndNewConnectionsStillWork()
    {
        using var client = await Wire.ConnectEchoingAsync(_proxy.Endpoint, "first");

        Assert.Equal(1, _proxy.Reset());

        await Wire.AssertResetAsync(client);
        using var next = await Wire.ConnectEchoingAsync(_proxy.Endpoint, "next");
    }

    [Fact]
    public async Task Forwarding_ClientClosesCleanly_TheFinReachesTheUpstreamAndComesBack()
    {
        using var client = await Wire.ConnectEchoingAsync(_proxy.Endpoint, "bye");

        client.Shutdown(SocketShutdown.Send);

        await Assert.ThrowsAsync<EndOfStreamException>(() => Wire.ReceiveAsync(client, 1, Wire.ArrivalDeadline));
    }

    [Fact]
    public async Task UpstreamDown_TheClientIsReset()
    {
        var nothingThere = new IPEndPoint(IPAddress.Loopback, FreePorts.Next());
        await using var proxy = FaultProxy.Start(nothingThere);

        await Wire.AssertRefusedAsync(proxy.Endpoint);

        Assert.Equal(1, proxy.Counters.UpstreamConnectFailures);
    }

    [Fact]
    public async Task ConnectionsMax_OneConnectionTooManyIsReset()
    {
        await using var proxy = FaultProxy.Start(_server.Endpoint, new FaultProxyOptions { ConnectionsMax = 2 });
        using var first = await Wire.ConnectAsync(proxy.Endpoint);
        using var second = await Wire.ConnectAsync(proxy.Endpoint);
        await Wire.AssertEchoesAsync(first, "1");
        await Wire.AssertEchoesAsync(second, "2");

        await Wire.AssertRefusedAsync(proxy.Endpoint);

        Assert.Equal(1, proxy.Counters.ConnectionsOverLimit);
    }

    [Fact]
    public async Task Dispose_CutsConnectionsAndFreesThePort()
    {
        var proxy = FaultProxy.Start(_server.Endpoint);
        using var client = await Wire.ConnectEchoingAsync(proxy.Endpoint, "x");

        await proxy.DisposeAsync();

        await Wire.AssertResetAsync(client);
        var refused = await Assert.ThrowsAsync<SocketException>(() => Wire.ConnectAsync(proxy.Endpoint));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(proxy.Endpoint);
    }

    [Fact]
    public void Start_InvalidArguments_ReportsEveryProblem()
    {
        Assert.Throws<ArgumentException>(() => FaultProxy.Start(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 80)));

        var error = Assert.Throws<ArgumentException>(() => FaultProxy.Start(
            _server.Endpoint,
            new FaultProxyOptions { ListenPort = -1, ConnectionsMax = 0, UpstreamConnectTimeout = TimeSpan.Zero }));

        Assert.Contains("ListenPort", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionsMax", error.Message, StringComparison.Ordinal);
        Assert.Contains("UpstreamConnectTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetLatency_BeyondTheMaximum_IsRejectedAndLeavesTheFaultsAsTheyWere()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _proxy.SetLatency(FaultProxy.LatencyMax + TimeSpan.FromSeconds(1)));

        Assert.Equal(LinkFaults.None, _proxy.Faults);
        Assert.Equal(0, _proxy.Counters.FaultChanges);
    }
}
