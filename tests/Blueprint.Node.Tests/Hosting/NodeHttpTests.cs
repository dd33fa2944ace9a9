using System.Net;
using System.Text.Json;
using Blueprint.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Blueprint.Node.Tests.Hosting;

public sealed class NodeHttpTests : IAsyncLifetime
{
    private TestNode _node = null!;

    public async ValueTask InitializeAsync() => _node = await TestNode.StartAsync(cancellationToken: TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    [Fact]
    public async Task Healthz_RunningNode_Returns200()
    {
        var response = await _node.Http.GetAsync("/healthz", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Readyz_EnginesUp_ReportsEachEngineHealthy()
    {
        var response = await _node.Http.GetAsync("/readyz", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        var checks = body.RootElement.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("kv").GetProperty("status").GetString());
        Assert.Equal("Healthy", checks.GetProperty("sql").GetProperty("status").GetString());
        Assert.Contains(_node.RespEndpoint, checks.GetProperty("kv").GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_AfterARequest_ExposesPrometheusTextWithServiceAndHttpMetrics()
    {
        // A request to a non-infrastructure path so the server duration histogram has a sample.
        await _node.Http.GetAsync("/", TestContext.Current.CancellationToken);
        var response = await _node.Http.GetAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("service_name=\"blueprint\"", text, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds_bucket", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_collections", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_ServesThePageAndEveryScriptItImports_UnderAStrictContentSecurityPolicy()
    {
        var token = TestContext.Current.CancellationToken;
        var response = await _node.Http.GetAsync("/", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("script-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var html = await response.Content.ReadAsStringAsync(token);
        Assert.Contains("<script type=\"module\" src=\"/dashboard/app.js\">", html, StringComparison.Ordinal);
        Assert.Contains("<link rel=\"stylesheet\" href=\"/dashboard/dashboard.css\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal); // nothing from a CDN

        // Every module the entry script reaches is served, as JavaScript (a missing one would break the page silently).
        var pending = new Queue<string>(["app.js"]);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (pending.TryDequeue(out var file))
        {
            if (!seen.Add(file))
            {
                continue;
            }

            var script = await _node.Http.GetAsync($"/dashboard/{file}", token);
            Assert.True(script.StatusCode == HttpStatusCode.OK, $"/dashboard/{file}: {(int)script.StatusCode}");
            Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
            foreach (System.Text.RegularExpressions.Match import in System.Text.RegularExpressions.Regex.Matches(await script.Content.ReadAsStringAsync(token), @"from '\./([\w-]+\.js)'"))
            {
                pending.Enqueue(import.Groups[1].Value);
            }
        }

        Assert.Contains("charts.js", seen);
        Assert.Contains("markdown.js", seen);
        Assert.Equal("text/css", (await _node.Http.GetAsync("/dashboard/dashboard.css", token)).Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await _node.Http.GetAsync("/dashboard/no-such.js", token)).StatusCode);
    }

    [Fact]
    public async Task ApiNode_DescribesVersionModulesEndpointsListenersAndCheatSheetRows()
    {
        var token = TestContext.Current.CancellationToken;
        var response = await _node.Http.GetAsync("/api/node", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(token));
        var root = body.RootElement;
        Assert.Equal(Blueprint.Hosting.BlueprintVersion.Current, root.GetProperty("version").GetString());
        Assert.Equal($"{_node.Node.HttpAddress}", root.GetProperty("http").GetString());

        var modules = root.GetProperty("modules").EnumerateArray().ToDictionary(module => module.GetProperty("name").GetString()!);
        Assert.Equal(_node.Node.Modules.Select(module => module.Name), modules.Keys);
        var kv = modules["kv"];
        Assert.Contains(kv.GetProperty("endpoints").EnumerateArray(), endpoint =>
            endpoint.GetProperty("address").GetString() == $"redis://{_node.RespEndpoint}" && endpoint.GetProperty("hint").GetString()!.Length > 0);
        Assert.Contains("Relational (SQL)", modules["sql"].GetProperty("cheatSheetRows").EnumerateArray().Select(row => row.GetString()));
        Assert.Equal(["kv", "sql"], modules["shortener"].GetProperty("requires").EnumerateArray().Select(name => name.GetString()));
        Assert.Equal("/chat", modules["chat"].GetProperty("page").GetString());
        Assert.Equal(JsonValueKind.Null, kv.GetProperty("page").ValueKind);

        var listeners = root.GetProperty("listeners").EnumerateArray().ToList();
        Assert.Equal("node", listeners[0].GetProperty("module").GetString());
        Assert.Equal("--http-port", listeners[0].GetProperty("setting").GetString());
        Assert.Contains(listeners, listener => listener.GetProperty("module").GetString() == "kv"
            && listener.GetProperty("address").GetString() == $"redis://{_node.RespEndpoint}" && listener.GetProperty("setting").GetString() == "--resp-port");
        Assert.Contains(root.GetProperty("links").EnumerateArray(), link => link.GetProperty("href").GetString() == "/readyz");
    }

    [Fact]
    public async Task OpenApi_DescribesTheDashboardsJson_ButNotItsPage()
    {
        using var document = JsonDocument.Parse(await _node.Http.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken));
        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/node", out var node));
        Assert.Equal("node", node.GetProperty("get").GetProperty("tags")[0].GetString());
        Assert.True(paths.TryGetProperty("/api/lab/{name}", out _));
        Assert.False(paths.TryGetProperty("/", out _));
        Assert.False(paths.TryGetProperty("/dashboard/{file}", out _));
    }

    [Fact]
    public void Tracing_LeavesTheDashboardsOwnRequestsOut()
    {
        var filter = _node.Node.Services.GetRequiredService<IOptions<TracingFilterOptions>>().Value;
        Assert.False(filter.IsTraced("/api/node"));
        Assert.False(filter.IsTraced("/api/lab/bloom-filter"));
        Assert.False(filter.IsTraced("/dashboard/app.js"));
        Assert.True(filter.IsTraced("/api/links"));
        Assert.True(filter.IsTraced("/api/nodes")); // whole segments only
    }

    [Fact]
    public async Task OpenApi_ReturnsDocumentAndReferencePage()
    {
        var document = await _node.Http.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken);
        using var json = JsonDocument.Parse(document);
        Assert.StartsWith("3.", json.RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);

        var page = await _node.Http.GetAsync("/api/", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("openapi/v1.json", await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownPath_Returns404ProblemDetails()
    {
        var response = await _node.Http.GetAsync("/no-such-thing", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
