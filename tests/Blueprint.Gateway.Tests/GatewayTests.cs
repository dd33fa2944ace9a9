using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Blueprint.Gateway.Tests;

/// <summary>The gateway in front of real backends on loopback: routing and each load-balancing policy.</summary>
public sealed class GatewayTests
{
    [Fact]
    public async Task A_configured_route_reaches_its_backend()
    {
        await using var backends = await Backends.StartAsync(1);
        await using var gateway = await StartGatewayAsync(backends, "RoundRobin");
        using var response = await gateway.Http.GetAsync("/svc/hello?x=1", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("b0 GET /svc/hello?x=1", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        using var miss = await gateway.Http.GetAsync("/elsewhere/x", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, miss.StatusCode);
    }

    [Fact]
    public async Task An_invalid_proxy_configuration_stops_the_start_with_the_reason()
    {
        var error = await Assert.ThrowsAsync<Blueprint.Hosting.StartupProblemException>(() => TestNode.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Node:Modules"] = "gateway",
            ["Gateway:ReverseProxy:Routes:r:ClusterId"] = "c",
            ["Gateway:ReverseProxy:Routes:r:Match:Path"] = "/r/{**rest}",
            ["Gateway:ReverseProxy:Clusters:c:LoadBalancingPolicy"] = "Bogus",
            ["Gateway:ReverseProxy:Clusters:c:Destinations:d:Address"] = "http://127.0.0.1:1/",
        }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.StartsWith("Gateway:ReverseProxy is invalid: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("'Bogus'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Round_robin_spreads_requests_evenly()
    {
        await using var backends = await Backends.StartAsync(3);
        await using var gateway = await StartGatewayAsync(backends, "RoundRobin");
        var counts = await CountAsync(gateway, 30);
        Assert.Equal([10, 10, 10], counts);
    }

    [Fact]
    public async Task Weighted_round_robin_gives_each_backend_its_share_interleaved()
    {
        await using var backends = await Backends.StartAsync(3);
        await using var gateway = await StartGatewayAsync(backends, "WeightedRoundRobin", weights: [1, 2, 3]);
        var order = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            order.Add(await NameAsync(gateway, null));
        }

        Assert.Equal([10, 20, 30], backends.Names.Select(name => order.Count(o => o == name)).ToArray());
        // Smooth: the heaviest never runs more than twice in a row with weights 1, 2, 3.
        var longest = order.Zip(order.Skip(1)).Zip(order.Skip(2)).Count(t => t.First.First == "b2" && t.First.Second == "b2" && t.Second == "b2");
        Assert.Equal(0, longest);
    }

    [Fact]
    public async Task Consistent_hashing_keeps_users_sticky_and_moves_only_a_lost_backends_users()
    {
        await using var backends = await Backends.StartAsync(3);
        var before = new Dictionary<string, string>();
        await using (var gateway = await StartGatewayAsync(backends, "ConsistentHash", hashKey: "header:X-User"))
        {
            for (var user = 0; user < 150; user++)
            {
                var name = await NameAsync(gateway, $"user-{user}");
                Assert.Equal(name, await NameAsync(gateway, $"user-{user}"));
                before[$"user-{user}"] = name;
            }
        }

        Assert.All(backends.Names, name => Assert.InRange(before.Values.Count(v => v == name), 20, 80));

        // The same backends minus b2: only b2's users move.
        await using var smaller = await StartGatewayAsync(backends, "ConsistentHash", hashKey: "header:X-User", only: 2);
        foreach (var (user, name) in before)
        {
            var now = await NameAsync(smaller, user);
            if (name != "b2")
            {
                Assert.Equal(name, now);
            }
            else
            {
                Assert.NotEqual("b2", now);
            }
        }
    }

    [Theory]
    [InlineData("active")]
    [InlineData("passive")]
    public async Task A_killed_backend_is_ejected_by_health_checks_and_requests_succeed_again(string kind)
    {
        await using var backends = await Backends.StartAsync(3);
        // Health checks alone: retries and circuit breakers (ResilienceTests) would hide the failures this test watches.
        await using var gateway = await StartGatewayAsync(backends, "RoundRobin", extra: kind == "active"
            ? new Dictionary<string, string?>
            {
                ["Gateway:Resilience:Retries"] = "0",
                ["Gateway:Resilience:CircuitBreaker"] = "false",
                ["Gateway:ReverseProxy:Clusters:backends:HealthCheck:Active:Enabled"] = "true",
                ["Gateway:ReverseProxy:Clusters:backends:HealthCheck:Active:Interval"] = "00:00:00.200",
                ["Gateway:ReverseProxy:Clusters:backends:HealthCheck:Active:Timeout"] = "00:00:00.500",
                ["Gateway:ReverseProxy:Clusters:backends:HealthCheck:Active:Policy"] = "ConsecutiveFailures",
                ["Gateway:ReverseProxy:Clusters:backends:HealthCheck:Active:Path"] = "/health",
            }
            : new Dictionary<string, string?>
            {
                ["Gateway:Resilience:Retries"] = "0",
                ["Gateway:Resilience:CircuitBreaker"] = "false",
                // Failed proxied requests themselves eject the destination (YARP's transport failure rate), for a minute.
                ["Gateway:ReverseProxy:Clusters:backends:HealthCheck:Passive:Enabled"] = "true",
                ["Gateway:ReverseProxy:Clusters:backends:HealthCheck:Passive:Policy"] = "TransportFailureRate",
                ["Gateway:ReverseProxy:Clusters:backends:HealthCheck:Passive:ReactivationPeriod"] = "00:01:00",
            });
        var before = await CountAsync(gateway, 30);
        Assert.Equal([10, 10, 10], before);

        await backends.StopAsync(1);
        // Within the detection window some requests fail (502); after it, every request succeeds on b0 and b2.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        var streak = new List<string>();
        while (streak.Count < 30)
        {
            Assert.True(DateTime.UtcNow < deadline, "the dead backend was not ejected within 15 s");
            using var response = await gateway.Http.GetAsync("/svc/who", TestContext.Current.CancellationToken);
            if (response.IsSuccessStatusCode)
            {
                streak.Add((await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Split(' ')[0]);
            }
            else
            {
                Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
                streak.Clear();
            }
        }

        Assert.DoesNotContain("b1", streak);
        // Round robin over the two left; at the moment of ejection the rotation may repeat one once.
        Assert.InRange(streak.Count(name => name == "b0"), 14, 16);
    }

    [Theory]
    [InlineData("PowerOfTwoChoices")]
    [InlineData("LeastRequests")]
    public async Task Load_aware_policies_favour_the_less_loaded_backend(string policy)
    {
        // b0 answers after 100 ms, b1 at once: under concurrent load b0 holds more requests in flight.
        await using var backends = await Backends.StartAsync(2, delays: [TimeSpan.FromMilliseconds(100), TimeSpan.Zero]);
        await using var gateway = await StartGatewayAsync(backends, policy);
        await using var control = await StartGatewayAsync(backends, "RoundRobin");
        async Task<double> FastShareAsync(TestNode node)
        {
            var names = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
            {
                var mine = new List<string>();
                for (var i = 0; i < 10; i++)
                {
                    mine.Add(await NameAsync(node, null));
                }

                return mine;
            })));
            var all = names.SelectMany(list => list).ToList();
            return (double)all.Count(name => name == "b1") / all.Count;
        }

        Assert.Equal(0.5, await FastShareAsync(control), 2);
        Assert.True(await FastShareAsync(gateway) > 0.75, $"{policy} did not favour the fast backend");
    }

    [Fact]
    public async Task A_WebSocket_is_proxied_both_ways()
    {
        await using var backends = await Backends.StartAsync(1, webSocketEcho: true);
        await using var gateway = await StartGatewayAsync(backends, "RoundRobin");
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        var address = new UriBuilder(gateway.Node.HttpAddress) { Scheme = "ws", Path = "/svc/ws" }.Uri;
        await socket.ConnectAsync(address, TestContext.Current.CancellationToken);
        foreach (var text in new[] { "ping", "a longer message through the gateway" })
        {
            await socket.SendAsync(System.Text.Encoding.UTF8.GetBytes(text), System.Net.WebSockets.WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);
            var buffer = new byte[1024];
            var received = await socket.ReceiveAsync(buffer, TestContext.Current.CancellationToken);
            Assert.Equal("b0: " + text, System.Text.Encoding.UTF8.GetString(buffer, 0, received.Count));
        }

        await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "done", TestContext.Current.CancellationToken);
    }

    private static async Task<int[]> CountAsync(TestNode gateway, int requests)
    {
        var names = new List<string>();
        for (var i = 0; i < requests; i++)
        {
            names.Add(await NameAsync(gateway, null));
        }

        return Enumerable.Range(0, 3).Select(i => names.Count(name => name == $"b{i}")).ToArray();
    }

    private static async Task<string> NameAsync(TestNode gateway, string? user)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/svc/who");
        if (user is not null)
        {
            request.Headers.Add("X-User", user);
        }

        using var response = await gateway.Http.SendAsync(request, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Split(' ')[0];
    }

    internal static Task<TestNode> StartGatewayAsync(
        Backends backends, string policy, int[]? weights = null, string? hashKey = null, int? only = null, IReadOnlyDictionary<string, string?>? extra = null,
        Action<IServiceCollection>? services = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Node:Modules"] = "gateway",
            ["Gateway:ReverseProxy:Routes:svc:ClusterId"] = "backends",
            ["Gateway:ReverseProxy:Routes:svc:Match:Path"] = "/svc/{**rest}",
            ["Gateway:ReverseProxy:Clusters:backends:LoadBalancingPolicy"] = policy,
        };
        if (hashKey is not null)
        {
            settings["Gateway:ReverseProxy:Clusters:backends:Metadata:HashKey"] = hashKey;
        }

        for (var i = 0; i < (only ?? backends.Addresses.Count); i++)
        {
            settings[$"Gateway:ReverseProxy:Clusters:backends:Destinations:b{i}:Address"] = backends.Addresses[i];
            if (weights is not null)
            {
                settings[$"Gateway:ReverseProxy:Clusters:backends:Destinations:b{i}:Metadata:Weight"] = weights[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return TestNode.StartAsync(null, settings, services, TestContext.Current.CancellationToken);
    }
}

/// <summary>Small HTTP backends on loopback, each answering "&lt;name&gt; &lt;method&gt; &lt;path and query&gt;".</summary>
internal sealed class Backends : IAsyncDisposable
{
    private readonly List<LoopbackApp> _apps;
    private readonly HashSet<int> _stopped = [];

    private Backends(List<LoopbackApp> apps, List<string> addresses)
    {
        _apps = apps;
        Addresses = addresses;
    }

    public IReadOnlyList<string> Addresses { get; }

    /// <summary>The status each backend answers with (200 unless a test sets another).</summary>
    public int[] Statuses { get; private init; } = [];

    /// <summary>How many requests each backend has received.</summary>
    public int[] Hits { get; private init; } = [];

    /// <summary>While a backend's entry is set, its requests wait for that task before answering.</summary>
    public Task?[] Holds { get; private init; } = [];

    public IReadOnlyList<string> Names => Enumerable.Range(0, Addresses.Count).Select(i => $"b{i}").ToArray();

    public static async Task<Backends> StartAsync(int count, bool webSocketEcho = false, TimeSpan[]? delays = null)
    {
        var apps = new List<LoopbackApp>();
        var addresses = new List<string>();
        var statuses = Enumerable.Repeat(StatusCodes.Status200OK, count).ToArray();
        var hits = new int[count];
        var holds = new Task?[count];
        for (var i = 0; i < count; i++)
        {
            var name = $"b{i}";
            var delay = delays?[i] ?? TimeSpan.Zero;
            var index = i;
            apps.Add(await LoopbackApp.StartAsync(HttpProtocols.Http1AndHttp2, _ => { }, app => Map(app, name, index, webSocketEcho, delay, statuses, hits, holds)));
            addresses.Add(apps[^1].Address);
        }

        return new Backends(apps, addresses) { Statuses = statuses, Hits = hits, Holds = holds };
    }

    private static void Map(WebApplication app, string name, int index, bool webSocketEcho, TimeSpan delay, int[] statuses, int[] hits, Task?[] holds)
    {
        if (webSocketEcho)
        {
            app.UseWebSockets();
            app.Use(async (context, next) =>
            {
                if (!context.WebSockets.IsWebSocketRequest)
                {
                    await next(context);
                    return;
                }

                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                var buffer = new byte[1024];
                while (true)
                {
                    var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                    if (received.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
                    {
                        await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "bye", context.RequestAborted);
                        return;
                    }

                    var reply = System.Text.Encoding.UTF8.GetBytes($"{name}: {System.Text.Encoding.UTF8.GetString(buffer, 0, received.Count)}");
                    await socket.SendAsync(reply, System.Net.WebSockets.WebSocketMessageType.Text, true, context.RequestAborted);
                }
            });
        }

        app.Run(async context =>
        {
            Interlocked.Increment(ref hits[index]);
            if (Volatile.Read(ref holds[index]) is { } hold)
            {
                await hold.WaitAsync(context.RequestAborted);
            }

            context.Response.StatusCode = Volatile.Read(ref statuses[index]);
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, context.RequestAborted); // a slow backend, not a wait in the test
            }

            await context.Response.WriteAsync($"{name} {context.Request.Method} {context.Request.Path}{context.Request.QueryString}", context.RequestAborted);
        });
    }

    /// <summary>Stops backend <paramref name="index"/>: its port refuses connections from now on.</summary>
    public async Task StopAsync(int index)
    {
        await _apps[index].DisposeAsync();
        _stopped.Add(index);
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < _apps.Count; i++)
        {
            if (!_stopped.Contains(i))
            {
                await _apps[i].DisposeAsync();
            }
        }
    }
}
