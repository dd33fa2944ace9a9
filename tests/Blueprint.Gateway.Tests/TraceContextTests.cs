using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Blueprint.Gateway.Tests;

/// <summary>
/// W3C Trace Context (https://www.w3.org/TR/trace-context/, §3.2 traceparent, §3.3 tracestate) through
/// the gateway: the node's tracing (OpenTelemetry in ServiceDefaults, YARP's propagator) continues an
/// incoming trace with its own span as the backend's parent, and starts a trace when there is none
/// or the incoming one is invalid.
/// </summary>
public sealed partial class TraceContextTests
{
    private const string TraceId = "0af7651916cd43dd8448eb211c80319c";
    private const string SpanId = "b7ad6b7169203331";
    private const string TraceState = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

    [Fact]
    public async Task A_traceparent_continues_its_trace_with_the_gateways_span_as_parent_and_tracestate_passes_on()
    {
        await using var backend = await StartBackendAsync();
        await using var gateway = await OneRouteGateway.StartAsync("svc", backend.Address, []);
        var incoming = new Dictionary<string, string> { ["traceparent"] = $"00-{TraceId}-{SpanId}-01", ["tracestate"] = TraceState };
        var first = await SendAsync(gateway, incoming);
        var second = await SendAsync(gateway, incoming);
        foreach (var seen in new[] { first, second })
        {
            Assert.Equal(TraceId, seen.TraceId);
            Assert.NotEqual(SpanId, seen.ParentId); // the gateway's span, not the caller's
            Assert.Equal("01", seen.Flags);
            Assert.Equal(TraceState, seen.TraceState);
        }

        Assert.NotEqual(first.ParentId, second.ParentId); // a span per request
    }

    [Fact]
    public async Task An_unsampled_traceparent_stays_unsampled()
    {
        await using var backend = await StartBackendAsync();
        await using var gateway = await OneRouteGateway.StartAsync("svc", backend.Address, []);
        var seen = await SendAsync(gateway, new() { ["traceparent"] = $"00-{TraceId}-{SpanId}-00" });
        Assert.Equal(TraceId, seen.TraceId);
        Assert.NotEqual(SpanId, seen.ParentId);
        Assert.Equal("00", seen.Flags); // the parent-based sampler follows the caller's decision
        Assert.Null(seen.TraceState);
    }

    [Fact]
    public async Task Without_traceparent_the_node_starts_a_sampled_trace_of_its_own()
    {
        await using var backend = await StartBackendAsync();
        await using var gateway = await OneRouteGateway.StartAsync("svc", backend.Address, []);
        var first = await SendAsync(gateway, []);
        var second = await SendAsync(gateway, []);
        foreach (var seen in new[] { first, second })
        {
            Assert.NotEqual(new string('0', 32), seen.TraceId);
            Assert.NotEqual(new string('0', 16), seen.ParentId);
            Assert.Equal("01", seen.Flags);
            Assert.Null(seen.TraceState);
        }

        Assert.NotEqual(first.TraceId, second.TraceId); // a trace per request
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01")] // all-zero trace id (§3.2.2.3)
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01")] // all-zero parent id (§3.2.2.4)
    [InlineData("00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01")] // upper-case hex
    [InlineData("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")] // version ff is forbidden (§3.2.2.2)
    public async Task An_invalid_traceparent_starts_a_new_trace_and_drops_its_tracestate(string traceparent)
    {
        await using var backend = await StartBackendAsync();
        await using var gateway = await OneRouteGateway.StartAsync("svc", backend.Address, []);
        var seen = await SendAsync(gateway, new() { ["traceparent"] = traceparent, ["tracestate"] = TraceState });
        Assert.NotEqual(TraceId, seen.TraceId, StringComparer.OrdinalIgnoreCase);
        Assert.NotEqual(new string('0', 32), seen.TraceId);
        Assert.NotEqual(new string('0', 16), seen.ParentId);
        Assert.Equal("01", seen.Flags);
        Assert.Null(seen.TraceState); // §3.3: tracestate is only read with a valid traceparent
    }

    /// <summary>What the backend received: <c>traceparent</c> parsed (exactly one, well formed) and <c>tracestate</c> (null when absent).</summary>
    private sealed record Seen(string TraceId, string ParentId, string Flags, string? TraceState);

    private static async Task<Seen> SendAsync(TestNode gateway, Dictionary<string, string> headers)
    {
        // No propagation by the test's own client: the test process hosts the node, so its
        // OpenTelemetry listener would otherwise make this client inject a traceparent of its own.
        using var handler = new SocketsHttpHandler { ActivityHeadersPropagator = null };
        using var client = new HttpClient(handler) { BaseAddress = gateway.Node.HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/svc/trace");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        var lines = (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Split('\n');
        Assert.Equal(2, lines.Length);
        var traceparent = Traceparent().Match(lines[0]);
        Assert.True(traceparent.Success, $"the backend received no single well-formed traceparent: '{lines[0]}'");
        var tracestate = TraceStateLine().Match(lines[1]);
        Assert.True(tracestate.Success, lines[1]);
        return new Seen(traceparent.Groups["trace"].Value, traceparent.Groups["parent"].Value, traceparent.Groups["flags"].Value,
            tracestate.Groups["count"].Value == "0" ? null : tracestate.Groups["value"].Value);
    }

    /// <summary>A backend that answers with the trace headers it received, a line each: <c>name (count): values</c>.</summary>
    private static Task<LoopbackApp> StartBackendAsync() => LoopbackApp.StartAsync(HttpProtocols.Http1, _ => { }, app => app.Run(context =>
    {
        var lines = new[] { "traceparent", "tracestate" }.Select(name => $"{name} ({context.Request.Headers[name].Count}): {context.Request.Headers[name]}");
        return context.Response.WriteAsync(string.Join('\n', lines), context.RequestAborted);
    }));

    /// <summary>Version 00 (§3.2.2): lower-case hex trace id, parent id and flags; exactly one header value.</summary>
    [GeneratedRegex("^traceparent \\(1\\): 00-(?<trace>[0-9a-f]{32})-(?<parent>[0-9a-f]{16})-(?<flags>[0-9a-f]{2})$")]
    private static partial Regex Traceparent();

    [GeneratedRegex("^tracestate \\((?<count>[01])\\): (?<value>.*)$")]
    private static partial Regex TraceStateLine();
}
