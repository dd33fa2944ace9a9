using System.Net;
using System.Text.Json;

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
    public async Task HomePage_ListsModulesEndpointsAndCheatSheetRows()
    {
        var response = await _node.Http.GetAsync("/", TestContext.Current.CancellationToken);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("<b>kv</b>", html, StringComparison.Ordinal);
        Assert.Contains("<b>sql</b>", html, StringComparison.Ordinal);
        Assert.Contains($"redis://{_node.RespEndpoint}", html, StringComparison.Ordinal);
        Assert.Contains("Relational (SQL)", html, StringComparison.Ordinal);
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
