using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Gateway.Tests;

/// <summary>Retries with a budget, circuit breakers per destination and per-route timeouts, against real backends.</summary>
public sealed class ResilienceTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Idempotent_requests_are_retried_on_another_backend_and_a_post_with_a_body_is_not()
    {
        await using var backends = await Backends.StartAsync(3);
        await using var gateway = await GatewayTests.StartGatewayAsync(backends, "RoundRobin", extra: new Dictionary<string, string?>
        {
            ["Gateway:Resilience:CircuitBreaker"] = "false",
            ["Gateway:Resilience:RetryBudgetPercent"] = "100",
        });
        await backends.StopAsync(1);

        var served = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            using var response = await gateway.Http.GetAsync("/svc/who", Cancel);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            served.Add((await response.Content.ReadAsStringAsync(Cancel)).Split(' ')[0]);
        }

        Assert.DoesNotContain("b1", served);
        var posts = new List<HttpStatusCode>();
        for (var i = 0; i < 9; i++)
        {
            using var response = await gateway.Http.PostAsync("/svc/orders", new StringContent("{}", Encoding.UTF8, "application/json"), Cancel);
            posts.Add(response.StatusCode);
        }

        // Round robin sends every third POST to the dead backend: it fails, never resent (it may have been applied).
        Assert.Equal(3, posts.Count(status => status == HttpStatusCode.BadGateway));
        Assert.Equal(6, posts.Count(status => status == HttpStatusCode.OK));
    }

    [Fact]
    public async Task A_retried_request_keeps_the_headers_written_before_the_proxy()
    {
        await using var backends = await Backends.StartAsync(2);
        await using var gateway = await GatewayTests.StartGatewayAsync(backends, "FirstAlphabetical", extra: new Dictionary<string, string?>
        {
            ["Node:Modules"] = "kv,ratelimit,gateway",
            ["RateLimit:Http:Enabled"] = "true",
            ["RateLimit:Rules"] = """
                {"domain": "http", "descriptors": [{"key": "remote_address", "rate_limit": {"unit": "minute", "requests_per_unit": 1000}}]}
                """,
            ["Gateway:Resilience:CircuitBreaker"] = "false",
        });
        await backends.StopAsync(0);
        using var response = await gateway.Http.GetAsync("/svc/who", Cancel);
        Assert.Equal("b1 GET /svc/who", await response.Content.ReadAsStringAsync(Cancel));
        Assert.StartsWith("\"", response.Headers.GetValues("RateLimit").Single(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 1)] // no share of requests, one retry a second: the first retry goes, the rest wait for the clock
    [InlineData(100, 0)] // a retry per request: every one goes
    public async Task The_retry_budget_caps_retries(int percent, int minPerSecond)
    {
        await using var backends = await Backends.StartAsync(2);
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        // b0 is always chosen first and is dead: every request needs a retry to reach b1.
        await using var gateway = await GatewayTests.StartGatewayAsync(backends, "FirstAlphabetical", extra: new Dictionary<string, string?>
        {
            ["Gateway:Resilience:CircuitBreaker"] = "false",
            ["Gateway:Resilience:RetryBudgetPercent"] = percent.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway:Resilience:RetryBudgetMinPerSecond"] = minPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, services: services => services.AddSingleton<TimeProvider>(time));
        await backends.StopAsync(0);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await gateway.Http.GetAsync("/svc/who", Cancel);
            statuses.Add(response.StatusCode);
        }

        var expectedOk = percent == 100 ? 10 : 1;
        Assert.Equal(expectedOk, statuses.Count(status => status == HttpStatusCode.OK));
        Assert.Equal(10 - expectedOk, statuses.Count(status => status == HttpStatusCode.BadGateway));
        if (percent == 0)
        {
            // A second later the reserve holds one retry again.
            time.Advance(TimeSpan.FromSeconds(1));
            using var response = await gateway.Http.GetAsync("/svc/who", Cancel);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_failing_backends_circuit_opens_keeps_traffic_away_and_closes_after_a_good_trial()
    {
        await using var backends = await Backends.StartAsync(2);
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var gateway = await GatewayTests.StartGatewayAsync(backends, "FirstAlphabetical", extra: new Dictionary<string, string?>
        {
            ["Gateway:Resilience:BreakerMinimumThroughput"] = "4",
            ["Gateway:Resilience:BreakerFailureRatio"] = "0.5",
            ["Gateway:Resilience:BreakerBreakSeconds"] = "5",
        }, services: services => services.AddSingleton<TimeProvider>(time));
        backends.Statuses[0] = 500;
        var (listener, transitions) = ListenToTransitions(gateway);
        using var listening = listener;

        // Four 500s from b0 (a 5xx is an answer, not retried) reach the minimum throughput at a failure ratio of 1: the circuit opens.
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(("b0", HttpStatusCode.InternalServerError), await CallAsync(gateway));
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(("b1", HttpStatusCode.OK), await CallAsync(gateway));
        }

        Assert.Equal(4, backends.Hits[0]);
        Assert.Equal(["open"], transitions);

        // After the break one trial request goes to b0; it now succeeds, so the circuit closes and b0 is first again.
        backends.Statuses[0] = 200;
        time.Advance(TimeSpan.FromSeconds(6));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(("b0", HttpStatusCode.OK), await CallAsync(gateway));
        }

        Assert.Equal(["open", "half_open", "closed"], transitions);
    }

    [Fact]
    public async Task A_failed_trial_opens_the_circuit_again()
    {
        await using var backends = await Backends.StartAsync(2);
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var gateway = await StartWithOpenCircuitAsync(backends, time, failingStatus: 503);
        Assert.Equal(("b1", HttpStatusCode.OK), await CallAsync(gateway));

        time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(("b0", HttpStatusCode.ServiceUnavailable), await CallAsync(gateway)); // the trial, still failing
        Assert.Equal(("b1", HttpStatusCode.OK), await CallAsync(gateway));
        Assert.Equal(3, backends.Hits[0]);
    }

    [Fact]
    public async Task While_the_half_open_trial_is_out_other_requests_go_to_other_destinations()
    {
        await using var backends = await Backends.StartAsync(2);
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var gateway = await StartWithOpenCircuitAsync(backends, time, failingStatus: 500);

        backends.Statuses[0] = 200;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        backends.Holds[0] = release.Task;
        time.Advance(TimeSpan.FromSeconds(6));
        var trial = CallAsync(gateway);
        await Eventually.TrueAsync(
            () => Volatile.Read(ref backends.Hits[0]) >= 3,
            TimeSpan.FromSeconds(10),
            () => $"the trial request did not reach b0: {Volatile.Read(ref backends.Hits[0])} hits",
            Cancel);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(("b1", HttpStatusCode.OK), await CallAsync(gateway));
        }

        release.SetResult();
        Assert.Equal(("b0", HttpStatusCode.OK), await trial);
        Assert.Equal(("b0", HttpStatusCode.OK), await CallAsync(gateway));
    }

    [Fact]
    public async Task A_backend_that_keeps_passing_the_route_timeout_opens_its_circuit()
    {
        await using var backends = await Backends.StartAsync(2, delays: [TimeSpan.FromSeconds(30), TimeSpan.Zero]);
        await using var gateway = await GatewayTests.StartGatewayAsync(backends, "FirstAlphabetical", extra: new Dictionary<string, string?>
        {
            ["Gateway:ReverseProxy:Routes:svc:Timeout"] = "00:00:00.100",
            ["Gateway:Resilience:BreakerMinimumThroughput"] = "2",
        });
        Assert.Equal(HttpStatusCode.GatewayTimeout, (await CallAsync(gateway)).Status);
        Assert.Equal(HttpStatusCode.GatewayTimeout, (await CallAsync(gateway)).Status);
        Assert.Equal(("b1", HttpStatusCode.OK), await CallAsync(gateway));
    }

    [Fact]
    public async Task A_route_timeout_answers_504_when_the_backend_is_slower()
    {
        await using var backends = await Backends.StartAsync(1, delays: [TimeSpan.FromSeconds(30)]);
        await using var gateway = await GatewayTests.StartGatewayAsync(backends, "RoundRobin", extra: new Dictionary<string, string?>
        {
            ["Gateway:ReverseProxy:Routes:svc:Timeout"] = "00:00:00.200",
        });
        using var response = await gateway.Http.GetAsync("/svc/slow", Cancel);
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }

    /// <summary>
    /// A gateway over <paramref name="backends"/> (b0 first) whose circuit to b0 opened on two answers of
    /// <paramref name="failingStatus"/>, with a five-second break on <paramref name="time"/>.
    /// </summary>
    private static async Task<TestNode> StartWithOpenCircuitAsync(Backends backends, FakeTimeProvider time, int failingStatus)
    {
        var gateway = await GatewayTests.StartGatewayAsync(backends, "FirstAlphabetical", extra: new Dictionary<string, string?>
        {
            ["Gateway:Resilience:BreakerMinimumThroughput"] = "2",
            ["Gateway:Resilience:BreakerBreakSeconds"] = "5",
        }, services: services => services.AddSingleton<TimeProvider>(time));
        backends.Statuses[0] = failingStatus;
        Assert.Equal(("b0", (HttpStatusCode)failingStatus), await CallAsync(gateway));
        Assert.Equal(("b0", (HttpStatusCode)failingStatus), await CallAsync(gateway));
        return gateway;
    }

    private static async Task<(string Backend, HttpStatusCode Status)> CallAsync(TestNode gateway)
    {
        using var response = await gateway.Http.GetAsync("/svc/who", Cancel);
        var body = await response.Content.ReadAsStringAsync(Cancel);
        return (body.Split(' ')[0], response.StatusCode);
    }

    /// <summary>
    /// Records the circuit transitions of <paramref name="gateway"/>'s own meter. Meters are found by
    /// name process-wide, and other tests' nodes run in this process too: the node's meter factory
    /// (the meter's scope) tells its instruments apart.
    /// </summary>
    private static (MeterListener Listener, ConcurrentQueue<string> States) ListenToTransitions(TestNode gateway)
    {
        var factory = gateway.Node.App.Services.GetRequiredService<IMeterFactory>();
        var states = new ConcurrentQueue<string>();
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "blueprint.gateway.circuit.transitions" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "state")
                {
                    states.Enqueue($"{tag.Value}");
                }
            }
        });
        listener.Start();
        return (listener, states);
    }
}
