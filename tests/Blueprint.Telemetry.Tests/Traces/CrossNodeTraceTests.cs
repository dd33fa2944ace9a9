using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Blueprint.Node;
using static Blueprint.Telemetry.Tests.Traces.TraceKit;

namespace Blueprint.Telemetry.Tests.Traces;

/// <summary>
/// One request through a gateway node to a shortener node is one trace holding both nodes' spans. The nodes are separate
/// processes (in one process every node's tracer would record every node's activities): the edge stores its spans and
/// receives the app node's over OTLP/gRPC (<c>Otel:Endpoint</c>), as a user would point a cluster at one collector.
/// </summary>
public sealed class CrossNodeTraceTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ARequestThroughTheGatewayToTheShortenerIsOneTraceAcrossBothNodes()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var edgeData = new TempDirectory();
        using var appData = new TempDirectory();
        var catalog = BlueprintCatalog.Create();
        var edgePorts = TestNode.FreeListenerPorts(catalog);
        var appPorts = TestNode.FreeListenerPorts(catalog);
        var edgeHttp = FreePorts.Next();
        var appHttp = FreePorts.Next();
        var edgeGrpc = edgePorts["Telemetry:OtlpGrpcPort"]!;

        var app = Environment(appPorts, new()
        {
            ["Otel:ServiceName"] = "links",
            ["Otel:Endpoint"] = $"http://127.0.0.1:{edgeGrpc}",
            ["Shortener:AllowAnonymous"] = "true",
        });
        var edge = Environment(edgePorts, new()
        {
            ["Otel:ServiceName"] = "edge",
            ["Gateway:ReverseProxy:Routes:go:ClusterId"] = "links",
            ["Gateway:ReverseProxy:Routes:go:Match:Path"] = "/go/{**rest}",
            ["Gateway:ReverseProxy:Routes:go:Transforms:0:PathRemovePrefix"] = "/go",
            ["Gateway:ReverseProxy:Clusters:links:Destinations:d0:Address"] = $"http://127.0.0.1:{appHttp.ToString(CultureInfo.InvariantCulture)}/",
        });

        await using var edgeNode = NodeProcess.Start(["run", "--modules", "gateway,telemetry", "--data-dir", edgeData.Path, "--http-port", Text(edgeHttp)], edgeData.Path, edge);
        await using var appNode = NodeProcess.Start(["run", "--modules", "kv,sql,shortener,telemetry", "--data-dir", appData.Path, "--http-port", Text(appHttp)], appData.Path, app);
        await edgeNode.WaitForLineAsync(line => line.Contains("Press Ctrl-C", StringComparison.Ordinal), Deadline);
        await appNode.WaitForLineAsync(line => line.Contains("Press Ctrl-C", StringComparison.Ordinal), Deadline);

        // No propagation by the test's own client (its process has no tracer; the header is set by hand).
        using var handler = new SocketsHttpHandler { ActivityHeadersPropagator = null, AllowAutoRedirect = false };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        using var created = await client.PostAsJsonAsync(new Uri($"http://127.0.0.1:{Text(appHttp)}/api/links"), new { url = "https://example.com/traced" }, cancellationToken);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var code = (await created.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("code").GetString();

        const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{Text(edgeHttp)}/go/{code}"));
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{TraceId}-00f067aa0ba902b7-01");
        using var redirect = await client.SendAsync(request, cancellationToken);
        Assert.Equal("https://example.com/traced", redirect.Headers.Location?.ToString());

        // Both nodes flush a batch a second; the app node's spans travel to the edge over OTLP.
        using var edgeApi = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Text(edgeHttp)}"), Timeout = TimeSpan.FromSeconds(30) };
        var trace = await Eventually.ValueAsync(
            async () =>
            {
                using var reply = await edgeApi.GetAsync(new Uri($"/api/traces/{TraceId}", UriKind.Relative), cancellationToken);
                return reply.IsSuccessStatusCode ? (await reply.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("data")[0] : default;
            },
            found => found.ValueKind == JsonValueKind.Object && ServicesOf(found).Distinct().Count() == 2,
            Deadline,
            found => found.ValueKind == JsonValueKind.Object ? $"services so far: {string.Join(", ", ServicesOf(found))}" : "no trace yet",
            cancellationToken);

        var spans = trace.GetProperty("spans").EnumerateArray().ToList();
        var processes = trace.GetProperty("processes");
        string Service(JsonElement span) => processes.GetProperty(span.GetProperty("processID").GetString()!).GetProperty("serviceName").GetString()!;
        var edgeServer = Assert.Single(spans, s => Service(s) == "edge" && Tag(s, "span.kind") == "server");
        var edgeClient = Assert.Single(spans, s => Service(s) == "edge" && Tag(s, "span.kind") == "client");
        var appServer = Assert.Single(spans, s => Service(s) == "links" && Tag(s, "span.kind") == "server");
        // The caller's span → the edge's server span → its proxy call → the app node's server span.
        Assert.Equal("00f067aa0ba902b7", ParentOf(edgeServer));
        Assert.Equal(edgeServer.GetProperty("spanID").GetString(), ParentOf(edgeClient));
        Assert.Equal(edgeClient.GetProperty("spanID").GetString(), ParentOf(appServer));
        Assert.Equal("302", Tag(appServer, "http.response.status_code"));

        var dependencies = (await edgeApi.GetFromJsonAsync<JsonElement>(new Uri("/api/dependencies", UriKind.Relative), cancellationToken)).GetProperty("data");
        Assert.Contains(dependencies.EnumerateArray(), d => d.GetProperty("parent").GetString() == "edge" && d.GetProperty("child").GetString() == "links");
    }

    private static IEnumerable<string> ServicesOf(JsonElement trace)
    {
        var processes = trace.GetProperty("processes");
        return trace.GetProperty("spans").EnumerateArray().Select(s => processes.GetProperty(s.GetProperty("processID").GetString()!).GetProperty("serviceName").GetString()!);
    }

    private static string? ParentOf(JsonElement span) =>
        span.GetProperty("references").EnumerateArray().Where(r => r.GetProperty("refType").GetString() == "CHILD_OF").Select(r => r.GetProperty("spanID").GetString()).SingleOrDefault();

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static Dictionary<string, string> Environment(Dictionary<string, string?> ports, Dictionary<string, string> settings) =>
        ports.Concat(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))
            .ToDictionary(s => "BLUEPRINT_" + s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value!);
}
