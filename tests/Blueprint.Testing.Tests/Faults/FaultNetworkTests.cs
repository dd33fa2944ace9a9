using System.Diagnostics;
using System.Text;
using Blueprint.Testing.Faults;

namespace Blueprint.Testing.Tests.Faults;

public sealed class FaultNetworkTests : IAsyncLifetime
{
    private static readonly string[] NodeNames = ["n1", "n2", "n3"];

    /// <summary>Each scenario: the faults, and the directed pairs that may still send (from, to).</summary>
    private static readonly Dictionary<string, (Action<FaultNetwork> Apply, (string From, string To)[] CanSend)> Scenarios = new()
    {
        ["healthy"] = (_ => { }, AllPairs()),
        ["partition n1 | n2 n3"] = (network => network.Partition(["n1"], ["n2", "n3"]), [("n2", "n3"), ("n3", "n2")]),
        ["isolate n2"] = (network => network.Isolate("n2"), [("n1", "n3"), ("n3", "n1")]),
        ["block n1 → n2"] = (network => network.Block("n1", "n2"), [.. AllPairs().Where(pair => pair != ("n1", "n2"))]),
        ["bridge n1 | n2 | n3"] = (network => network.Bridge(["n1"], "n2", ["n3"]), [("n1", "n2"), ("n2", "n1"), ("n2", "n3"), ("n3", "n2")]),
        ["partition then heal"] = (network =>
        {
            network.Partition(["n1"], ["n2", "n3"]);
            network.Heal();
        }, AllPairs()),
        ["block then unblock n3 → n1"] = (network =>
        {
            network.Block("n3", "n1");
            network.Unblock("n3", "n1");
        }, AllPairs()),
    };

    private readonly Dictionary<string, EchoServer> _servers = [];
    private FaultNetwork _network = null!;

    public static TheoryData<string> ScenarioNames => [.. Scenarios.Keys];

    public ValueTask InitializeAsync()
    {
        foreach (var name in NodeNames)
        {
            _servers[name] = EchoServer.Start();
        }

        _network = FaultNetwork.Start(_servers.ToDictionary(server => server.Key, server => server.Value.Port));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _network.DisposeAsync();
        foreach (var server in _servers.Values)
        {
            await server.DisposeAsync();
        }
    }

    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public async Task Scenario_EveryDirectedLink_CarriesRequestsAndRepliesExactlyAsDeclared(string scenario)
    {
        var (apply, canSendPairs) = Scenarios[scenario];
        var canSend = canSendPairs.ToHashSet();
        apply(_network);

        var probes = AllPairs().Select(async pair =>
        {
            var requestExpected = canSend.Contains(pair);
            var replyExpected = requestExpected && canSend.Contains((pair.To, pair.From));
            var (request, reply) = await ProbeAsync(pair.From, pair.To, requestExpected, replyExpected);
            return (pair, expected: (requestExpected, replyExpected), actual: (request, reply));
        });
        var results = await Task.WhenAll(probes);

        var wrong = results.Where(result => result.expected != result.actual)
            .Select(result => $"{result.pair.From} → {result.pair.To}: expected (request, reply) {result.expected}, got {result.actual}");
        Assert.Empty(wrong);
    }

    [Fact]
    public async Task Delay_OneWay_DelaysTheBytesThatTravelThatWayOnBothLinks()
    {
        var latency = TimeSpan.FromMilliseconds(200);
        _network.Delay("n1", "n2", latency);

        foreach (var (from, to) in new[] { ("n1", "n2"), ("n2", "n1") })
        {
            using var client = await Wire.ConnectAsync(_network.AddressFor(from, to));
            var started = Stopwatch.GetTimestamp();
            await Wire.AssertEchoesAsync(client, "ping");
            Assert.True(Stopwatch.GetElapsedTime(started) >= latency, $"{from} → {to}: the echo took {Stopwatch.GetElapsedTime(started)}");
        }

        Assert.Equal(TimeSpan.Zero, _network.Link("n1", "n3").Faults.Upstream.Latency);
    }

    [Fact]
    public async Task Partition_Reject_ResetsOpenConnectionsAcrossTheCutOnly()
    {
        using var across = await Wire.ConnectAsync(_network.AddressFor("n1", "n2"));
        using var within = await Wire.ConnectAsync(_network.AddressFor("n2", "n3"));
        await Wire.AssertEchoesAsync(across, "a");
        await Wire.AssertEchoesAsync(within, "w");

        _network.Partition(["n1"], ["n2", "n3"], PartitionMode.Reject);

        await Wire.AssertResetAsync(across);
        await Wire.AssertRefusedAsync(_network.AddressFor("n3", "n1"));
        await Wire.AssertEchoesAsync(within, "w2");
    }

    [Fact]
    public void Arguments_UnknownNodesAndOverlappingSides_AreRejected()
    {
        Assert.Throws<ArgumentException>(() => _network.AddressFor("n1", "n9"));
        Assert.Throws<ArgumentException>(() => _network.AddressFor("n1", "n1"));
        Assert.Throws<ArgumentException>(() => _network.Partition(["n1", "n2"], ["n2", "n3"]));
        Assert.Throws<ArgumentException>(() => _network.Bridge(["n1", "n2"], "n2", ["n3"]));
    }

    /// <summary>Sends a token on link from → to: did <paramref name="to"/> get it, and did its echo come back?</summary>
    private async Task<(bool Request, bool Reply)> ProbeAsync(string from, string to, bool requestExpected, bool replyExpected)
    {
        var token = $"{from}>{to}:{Guid.NewGuid():N}";
        using var client = await Wire.ConnectAsync(_network.AddressFor(from, to));
        var echo = Wire.EchoAsync(client, Encoding.ASCII.GetBytes(token), Deadline(replyExpected));
        var request = await _servers[to].ReceivesWithinAsync(token, Deadline(requestExpected));
        var reply = await echo is { } bytes && Encoding.ASCII.GetString(bytes) == token;
        return (request, reply);
    }

    /// <summary>Bytes expected are given long to come; bytes not expected, a read deadline to show they do not.</summary>
    private static TimeSpan Deadline(bool expected) => expected ? Wire.ArrivalDeadline : Wire.SilenceDeadline;

    private static (string From, string To)[] AllPairs() =>
        [.. NodeNames.SelectMany(from => NodeNames.Where(to => to != from).Select(to => (from, to)))];
}
