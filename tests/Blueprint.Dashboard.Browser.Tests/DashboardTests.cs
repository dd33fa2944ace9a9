using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Blueprint.Shortener.Access;
using Blueprint.Sql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OpenTelemetry.Trace;
using static Microsoft.Playwright.Assertions;

namespace Blueprint.Dashboard.Browser.Tests;

/// <summary>The node's dashboard at <c>/</c>, driven in a real chromium against an in-process node.</summary>
public sealed partial class DashboardTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Dashboard_Loads_ShowsTheNodesModulesAndHealth_AndEverySectionOpensByKeyboard_WithoutConsoleErrors()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        await using var browser = await DashboardBrowser.LaunchAsync();
        var dashboard = await browser.OpenAsync(node);
        var page = dashboard.Page;

        await Expect(page.Locator("#modules .card")).ToHaveCountAsync(node.Node.Modules.Count);
        var shortener = page.Locator("#modules .card[data-module=\"shortener\"]");
        await Expect(shortener.Locator("dd").First).ToContainTextAsync("POST /api/links");
        await Expect(page.Locator("#modules .card[data-module=\"kv\"]")).ToContainTextAsync($"redis://{node.RespEndpoint}");
        await Expect(page.Locator("#health")).ToHaveAttributeAsync("data-state", "Healthy");
        await Expect(page.Locator("#health-checks tbody tr").Filter(new() { HasText = "sql" })).ToContainTextAsync("Healthy");
        await Expect(page.Locator("#listeners tbody tr").First).ToContainTextAsync(node.Node.HttpAddress.ToString());
        await Expect(page.Locator("#node-links a[href=\"/api\"]")).ToHaveTextAsync("API reference");
        await dashboard.ScreenshotAsync("node");

        await dashboard.OpenSectionAsync("traces");
        await Expect(page.Locator("#search-service option[value=\"blueprint\"]")).ToHaveCountAsync(1);
        await dashboard.OpenSectionAsync("lab");
        await Expect(page.Locator("#lab-status")).Not.ToBeEmptyAsync();
        await dashboard.OpenSectionAsync("node");
        await dashboard.AssertNoErrorsAsync();
    }

    [Fact]
    public async Task TraceSearch_FindsARequestThroughTheGatewayToTheShortener_AndTheWaterfallShowsItsSpans()
    {
        var http = FreePorts.Next();
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Node:HttpPort"] = http.ToString(CultureInfo.InvariantCulture),
            ["Gateway:ReverseProxy:Routes:short:ClusterId"] = "shortener",
            ["Gateway:ReverseProxy:Routes:short:Match:Path"] = "/short/{**rest}",
            ["Gateway:ReverseProxy:Routes:short:Transforms:0:PathRemovePrefix"] = "/short",
            ["Gateway:ReverseProxy:Clusters:shortener:Destinations:self:Address"] = $"http://127.0.0.1:{http}/",
        }, cancellationToken: Token);
        var traceId = await FollowALinkThroughTheGatewayAsync(node);
        using var stored = await StoredTraceAsync(node, traceId);
        var spans = stored.RootElement.GetProperty("data")[0].GetProperty("spans").EnumerateArray().ToList();
        var processes = stored.RootElement.GetProperty("data")[0].GetProperty("processes");
        string ServiceOf(JsonElement span) => processes.GetProperty(span.GetProperty("processID").GetString()!).GetProperty("serviceName").GetString()!;
        var spanIds = spans.Select(span => span.GetProperty("spanID").GetString()!).ToHashSet();
        var root = spans.Single(span => !span.GetProperty("references").EnumerateArray().Any(reference => spanIds.Contains(reference.GetProperty("spanID").GetString()!)));
        var rootOperation = root.GetProperty("operationName").GetString()!;

        await using var browser = await DashboardBrowser.LaunchAsync();
        var dashboard = await browser.OpenAsync(node, "#/traces");
        var page = dashboard.Page;
        await Expect(page.Locator("#search-service option[value=\"blueprint\"]")).ToHaveCountAsync(1);
        await page.Locator("#search-service").SelectOptionAsync("blueprint");
        await Expect(page.Locator("#search-operation option").Filter(new() { HasTextRegex = new Regex($"^{Regex.Escape(rootOperation)}$") })).ToHaveCountAsync(1);
        await page.Locator("#search-operation").SelectOptionAsync(rootOperation);
        await page.Locator("#search-lookback").SelectOptionAsync("15m");
        await page.Locator("#search-button").ClickAsync();
        var found = page.Locator($"#trace-results li[data-trace-id=\"{traceId}\"]");
        await Expect(found).ToHaveCountAsync(1);
        await Expect(found.Locator(".name")).ToHaveTextAsync($"{ServiceOf(root)}: {rootOperation}");
        await Expect(found.Locator(".meta").First).ToHaveTextAsync(new Regex($@"^\d+ spans · {ServiceOf(root)}$"));
        await dashboard.ScreenshotAsync("search");

        await found.Locator("a").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"#/trace/{traceId}$"));
        using var shown = await WaterfallMatchesTheApiAsync(page, node, traceId);
        spans = [.. shown.RootElement.GetProperty("data")[0].GetProperty("spans").EnumerateArray()];
        processes = shown.RootElement.GetProperty("data")[0].GetProperty("processes");
        await Expect(page.Locator("#trace-title")).ToHaveTextAsync($"{ServiceOf(root)}: {rootOperation}");

        // A row opens its details by keyboard: tags, process and logs.
        var second = page.Locator(".wf-row").Nth(1);
        await second.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(second).ToHaveAttributeAsync("aria-expanded", "true");
        var secondId = await second.GetAttributeAsync("data-span-id");
        var detail = page.Locator($"#span-{secondId}");
        await Expect(detail).ToBeVisibleAsync();
        var firstTag = spans.Single(span => span.GetProperty("spanID").GetString() == secondId).GetProperty("tags")[0];
        await Expect(detail).ToContainTextAsync(firstTag.GetProperty("key").GetString()!);
        await Expect(detail).ToContainTextAsync($"Process: {ServiceOf(spans[0])}");
        await dashboard.ScreenshotAsync("waterfall");
        await dashboard.AssertNoErrorsAsync();

        // The view is linkable: a fresh tab opened at #/trace/<id> shows the same waterfall.
        var linked = await browser.OpenAsync(node, $"#/trace/{traceId}");
        using var linkedTrace = await WaterfallMatchesTheApiAsync(linked.Page, node, traceId);
        await linked.AssertNoErrorsAsync();
    }

    [Fact]
    public async Task TracesFromSeveralServices_ColorTheWaterfallByService_AndDrawTheirDependencyGraph()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        var traceId = await OtlpTrace.PostAsync(node, Token);
        using var stored = await Eventually.ValueAsync(
            async () =>
            {
                var response = await node.Http.GetAsync($"/api/traces/{traceId}", Token);
                return response.StatusCode == HttpStatusCode.OK ? JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token)) : null;
            },
            document => document?.RootElement.GetProperty("data")[0].GetProperty("spans").GetArrayLength() == OtlpTrace.SpanCount,
            Deadline,
            document => $"the posted trace is not stored whole: {document?.RootElement.GetRawText() ?? "not stored"}",
            Token);
        using var dependencies = JsonDocument.Parse(await node.Http.GetStringAsync(new Uri($"/api/dependencies?endTs={DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}&lookback=3600000", UriKind.Relative), Token));
        var links = dependencies.RootElement.GetProperty("data").EnumerateArray()
            .Select(link => (link.GetProperty("parent").GetString(), link.GetProperty("child").GetString(), link.GetProperty("callCount").GetInt64()))
            .ToList();
        Assert.Equal(3, links.Count);

        await using var browser = await DashboardBrowser.LaunchAsync();
        var dashboard = await browser.OpenAsync(node, "#/traces");
        var page = dashboard.Page;
        var edges = page.Locator("#dependency-graph .graph-edge");
        await Expect(edges).ToHaveCountAsync(links.Count);
        var drawn = await edges.EvaluateAllAsync<string[][]>("edges => edges.map(edge => [edge.dataset.parent, edge.dataset.child, edge.textContent])");
        Assert.Equal(
            links.Select(link => $"{link.Item1}→{link.Item2}: {link.Item3} call{(link.Item3 == 1 ? "" : "s")}").Order(),
            drawn.Select(edge => $"{edge[0]}→{edge[1]}: {edge[2]}").Order());
        await Expect(page.Locator("#dependency-graph .graph-node")).ToHaveCountAsync(4);

        await page.Locator("#search-service").SelectOptionAsync("web");
        await page.Locator("#search-button").ClickAsync();
        await page.Locator($"#trace-results li[data-trace-id=\"{traceId}\"] a").ClickAsync();
        using var shown = await WaterfallMatchesTheApiAsync(page, node, traceId);
        var colors = await page.Locator("#waterfall .wf-row").EvaluateAllAsync<string[][]>(
            "rows => rows.map(row => [row.dataset.service, getComputedStyle(row.querySelector('.wf-bar')).backgroundColor])");
        Assert.Equal(4, colors.Select(row => row[1]).Distinct().Count()); // a color per service
        Assert.All(colors.GroupBy(row => row[0]), service => Assert.Single(service.Select(row => row[1]).Distinct()));
        await Expect(page.Locator("#waterfall .wf-row.error")).ToHaveCountAsync(1);

        var charge = page.Locator("#waterfall .wf-row[data-service=\"payments\"][data-operation=\"POST /charge\"]");
        await charge.ClickAsync();
        await Expect(page.Locator($"#span-{await charge.GetAttributeAsync("data-span-id")}")).ToContainTextAsync("card authorized");
        await page.Locator("#trace-title").ScrollIntoViewIfNeededAsync();
        await dashboard.ScreenshotAsync("waterfall");
        await dashboard.ScreenshotAsync("waterfall-laptop", fullPage: false);
        await page.Locator("#trace-back").ClickAsync();
        await Expect(edges).ToHaveCountAsync(links.Count);
        await dashboard.ScreenshotAsync("dependencies");
        await dashboard.AssertNoErrorsAsync();
    }

    [Fact]
    public async Task MetricsCharts_DrawTheQueryApisSeries_AndSayNoDataYetForAMetricTheNodeLacks()
    {
        // The page is driven by answers in the query API's shape, served in place of /api/metrics/*, so every chart has a
        // known series (and one metric none); the queries it makes are checked against the API's contract. The next test
        // draws the node's own stored metrics.
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        await using var browser = await DashboardBrowser.LaunchAsync();
        var queries = new System.Collections.Concurrent.ConcurrentQueue<Dictionary<string, string>>();
        var dashboard = await browser.OpenAsync(node, "#/metrics", page => MetricsApi.RouteAsync(page, queries));
        var page = dashboard.Page;

        var requests = page.Locator("#chart-http-rate path.series");
        await Expect(requests).ToHaveCountAsync(1);
        Assert.True(int.Parse((await requests.GetAttributeAsync("data-points"))!, CultureInfo.InvariantCulture) >= 30);
        Assert.Matches(@"^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){29,}$", await requests.GetAttributeAsync("d"));
        await Expect(page.Locator("#chart-http-p99 path.series")).ToHaveCountAsync(1);
        await Expect(page.Locator("#chart-http-p99 figcaption .value")).ToHaveTextAsync(new Regex(@"^[\d.]+ ms$"));
        await Expect(page.Locator("#chart-ratelimit path.series")).ToHaveCountAsync(2);
        await Expect(page.Locator("#chart-ratelimit .chart-legend li")).ToHaveTextAsync([new Regex("^outcome=allowed: "), new Regex("^outcome=limited: ")]);
        await Expect(page.Locator("#chart-raft-term path.series")).ToHaveCountAsync(1);
        await Expect(page.Locator("#chart-spans path.series")).ToHaveCountAsync(1); // received has points, dropped none
        await Expect(page.Locator("#chart-kv-ops svg")).ToHaveAttributeAsync("data-empty", "true");
        await Expect(page.Locator("#chart-kv-ops")).ToContainTextAsync("no data yet");
        await Expect(page.Locator("#explore-chart path.series")).ToHaveCountAsync(1);
        await dashboard.ScreenshotAsync("metrics");

        var asked = queries.ToList();
        Assert.Contains(asked, query => query["name"] == "http.server.request.duration" && query["agg"] == "p99" && query["group"] == "");
        Assert.Contains(asked, query => query["name"] == "blueprint.ratelimit.decisions" && query["agg"] == "rate" && query["group"] == "outcome");
        Assert.All(asked, query =>
        {
            var from = long.Parse(query["from"], CultureInfo.InvariantCulture);
            var to = long.Parse(query["to"], CultureInfo.InvariantCulture);
            Assert.InRange(to - from, 299_000, 3_601_000); // Unix milliseconds, the window chosen
            Assert.True(int.Parse(query["step"], CultureInfo.InvariantCulture) >= 5);
        });
        await dashboard.AssertNoErrorsAsync();
    }

    [Fact]
    public async Task MetricsCharts_DrawTheNodesOwnStoredMetrics()
    {
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Telemetry:MetricsIntervalSeconds"] = "1" }, cancellationToken: Token);
        // Requests to count, then wait until the store has at least three points of their rate.
        var points = await Eventually.ValueAsync(
            async () =>
            {
                using var traced = await node.Http.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative), Token);
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                using var reply = await node.Http.GetAsync(new Uri($"/api/metrics/query?name=http.server.request.duration&agg=rate&group=&from={now - 300_000}&to={now}", UriKind.Relative), Token);
                if (!reply.IsSuccessStatusCode)
                {
                    return 0;
                }

                using var body = System.Text.Json.JsonDocument.Parse(await reply.Content.ReadAsStringAsync(Token));
                return body.RootElement.GetProperty("series").EnumerateArray()
                    .Sum(series => series.GetProperty("points").EnumerateArray().Count(point => point[1].ValueKind == System.Text.Json.JsonValueKind.Number));
            },
            count => count >= 3,
            TimeSpan.FromSeconds(60),
            count => $"{count} points of the request rate stored",
            Token);
        Assert.True(points >= 3);

        await using var browser = await DashboardBrowser.LaunchAsync();
        var dashboard = await browser.OpenAsync(node, "#/metrics");
        var requests = dashboard.Page.Locator("#chart-http-rate path.series");
        await Expect(requests).ToHaveCountAsync(1);
        // The page's step is wider than the second the store samples at: a few seconds of data are a point or two.
        Assert.True(int.Parse((await requests.GetAttributeAsync("data-points"))!, CultureInfo.InvariantCulture) >= 1);
        Assert.StartsWith("M", await requests.GetAttributeAsync("d"), StringComparison.Ordinal);
        await Expect(dashboard.Page.Locator("#chart-http-p99 path.series")).ToHaveCountAsync(1);
        await dashboard.ScreenshotAsync("metrics-own");
        await dashboard.AssertNoErrorsAsync();
    }

    [Fact]
    public async Task MetricsAndTraces_SayWhatIsMissing_WithoutTheQueryApiOrWithoutTheTelemetryModule()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        await using var bare = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Node:Modules"] = "kv" }, cancellationToken: Token);
        await using var browser = await DashboardBrowser.LaunchAsync();

        var withoutApi = await browser.OpenAsync(node, "#/metrics", page => page.RouteAsync("**/api/metrics/names", route => route.FulfillAsync(new()
        {
            Status = 404,
            ContentType = "application/problem+json",
            Body = """{"title":"Not Found","status":404}""",
        })));
        await Expect(withoutApi.Page.Locator("#metrics-status")).ToContainTextAsync("no metrics query API");
        await withoutApi.AssertNoErrorsAsync(allowConsoleErrors: true); // the browser logs the 404 it was given

        var withoutTelemetry = await browser.OpenAsync(bare, "#/metrics");
        await Expect(withoutTelemetry.Page.Locator("#metrics-status")).ToContainTextAsync("telemetry module is not enabled");
        await Expect(withoutTelemetry.Page.Locator("#metrics-status")).ToContainTextAsync("--modules kv,telemetry");
        await withoutTelemetry.OpenSectionAsync("traces");
        await Expect(withoutTelemetry.Page.Locator("#traces-status")).ToContainTextAsync("telemetry module is not enabled");
        await Expect(withoutTelemetry.Page.Locator("#trace-search")).ToBeHiddenAsync();
        await withoutTelemetry.ScreenshotAsync("no-telemetry");
        await withoutTelemetry.AssertNoErrorsAsync();
    }

    [Fact]
    public async Task Lab_RendersAResultWithItsPlot_AndAReportsMarkupAsText()
    {
        using var results = new TempDirectory("blueprint-lab");
        foreach (var extension in new[] { ".md", ".json", ".png" })
        {
            File.Copy(Path.Combine(RepositoryRoot(), "lab-results", "bloom-filter" + extension), Path.Combine(results.Path, "bloom-filter" + extension));
        }

        await File.WriteAllTextAsync(Path.Combine(results.Path, "hostile.md"), """
            # Hostile <script>window.hacked = 1</script>

            <img src=x onerror="window.hacked = 2"> and [a link](javascript:window.hacked=3) and **bold** `code` and ![a tracker](https://evil.example/p.png).

            | a | b |
            |---|---|
            | <b>x</b> | 1 |
            """, Token);
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Node:Modules"] = "kv", ["Node:LabResultsDir"] = results.Path }, cancellationToken: Token);
        await using var browser = await DashboardBrowser.LaunchAsync();
        var dashboard = await browser.OpenAsync(node, "#/lab/bloom-filter");
        var page = dashboard.Page;

        await Expect(page.Locator("#lab-results a")).ToHaveCountAsync(2);
        await Expect(page.Locator("#lab-results a[data-lab=\"bloom-filter\"]")).ToHaveAttributeAsync("aria-current", "page");
        await Expect(page.Locator("#lab-results a[data-lab=\"bloom-filter\"] .verdict")).ToHaveTextAsync("5 of 5 claims hold");
        var report = page.Locator("#lab-report");
        await Expect(report.Locator("h1")).ToHaveTextAsync("Lab: bloom-filter");
        await Expect(report.Locator("h2").First).ToHaveTextAsync("Claims");
        await Expect(report.Locator("table").First.Locator("th").First).ToHaveTextAsync("claim");
        var plot = report.Locator("figure.plot img");
        await Expect(plot).ToHaveAttributeAsync("src", "/api/lab/bloom-filter/plot");
        await Eventually.TrueAsync(
            async () => await plot.EvaluateAsync<bool>("image => image.complete && image.naturalWidth > 100"),
            Deadline, () => "the plot did not load", Token);
        await plot.ScrollIntoViewIfNeededAsync();
        await dashboard.ScreenshotAsync("lab");

        await page.Locator("#lab-results a[data-lab=\"hostile\"]").ClickAsync();
        await Expect(report.Locator("h1")).ToHaveTextAsync("Hostile <script>window.hacked = 1</script>");
        await Expect(report.Locator("p").Nth(1)).ToContainTextAsync("<img src=x onerror=\"window.hacked = 2\"> and a link and bold code and a tracker.");
        await Expect(report.Locator("img, script, b")).ToHaveCountAsync(0);
        await Expect(report.Locator("strong")).ToHaveTextAsync("bold");
        await Expect(report.Locator("td").First).ToHaveTextAsync("<b>x</b>");
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.hacked"));
        await dashboard.AssertNoErrorsAsync();
    }

    /// <summary>
    /// The waterfall shows exactly the spans Jaeger's API returns for the trace, each with its span's service and operation,
    /// parents above their children, and a legend of the trace's services. A span stored after the page read the trace
    /// makes the two differ: the page is reloaded and both read again until they agree (or the deadline passes).
    /// </summary>
    private static async Task<JsonDocument> WaterfallMatchesTheApiAsync(IPage page, TestNode node, string traceId)
    {
        var rows = page.Locator("#waterfall .wf-row");
        var (trace, expected, shown) = await Eventually.ValueAsync(
            async () =>
            {
                var trace = JsonDocument.Parse(await node.Http.GetStringAsync(new Uri($"/api/traces/{traceId}", UriKind.Relative), Token));
                var processes = trace.RootElement.GetProperty("data")[0].GetProperty("processes");
                var expected = trace.RootElement.GetProperty("data")[0].GetProperty("spans").EnumerateArray()
                    .Select(span => $"{span.GetProperty("spanID").GetString()} {processes.GetProperty(span.GetProperty("processID").GetString()!).GetProperty("serviceName").GetString()}: {span.GetProperty("operationName").GetString()}")
                    .Order(StringComparer.Ordinal).ToList();
                await Expect(rows.First).ToBeVisibleAsync();
                var shown = (await rows.EvaluateAllAsync<string[]>("rows => rows.map(row => `${row.dataset.spanId} ${row.dataset.service}: ${row.dataset.operation}`)"))
                    .ToList();
                if (!expected.SequenceEqual(shown.Order(StringComparer.Ordinal)))
                {
                    await page.ReloadAsync();
                }

                return (trace, expected, shown);
            },
            read => read.expected.SequenceEqual(read.shown.Order(StringComparer.Ordinal)),
            Deadline,
            read => $"the waterfall shows [{string.Join(", ", read.shown)}], the API has [{string.Join(", ", read.expected)}]",
            Token);

        var order = shown.Select(row => row.Split(' ')[0]).ToList();
        var spans = trace.RootElement.GetProperty("data")[0].GetProperty("spans").EnumerateArray().ToList();
        foreach (var span in spans)
        {
            foreach (var reference in span.GetProperty("references").EnumerateArray())
            {
                var parent = order.IndexOf(reference.GetProperty("spanID").GetString()!);
                Assert.True(parent < 0 || parent < order.IndexOf(span.GetProperty("spanID").GetString()!), "a parent is drawn above its children");
            }
        }

        var services = expected.Select(row => row[(row.IndexOf(' ', StringComparison.Ordinal) + 1)..row.IndexOf(':', StringComparison.Ordinal)]).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(services, (await page.Locator("#trace-legend li").AllTextContentsAsync()).Order(StringComparer.Ordinal));
        return trace;
    }

    /// <summary>
    /// Creates a link, follows it through the gateway (which proxies to the shortener on the same node) under a trace id of
    /// the test's own, and returns that id.
    /// </summary>
    private static async Task<string> FollowALinkThroughTheGatewayAsync(TestNode node)
    {
        var key = await ApiKeys.CreateAsync(node.Node.Services.GetRequiredService<ISqlDatabase>(), TimeProvider.System, Token);
        // No propagation from this client: the request carries the test's traceparent, not one of its own.
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, ActivityHeadersPropagator = null })
        {
            BaseAddress = node.Node.HttpAddress,
        };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        using var created = await client.PostAsJsonAsync("/short/api/links", new { url = "https://example.com/dashboard" }, Token);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var code = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Token)).RootElement.GetProperty("code").GetString();

        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        using var follow = new HttpRequestMessage(HttpMethod.Get, $"/short/{code}");
        follow.Headers.Add("traceparent", $"00-{traceId}-{Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.NextInt64(1, long.MaxValue)))}-01");
        using var redirect = await client.SendAsync(follow, Token);
        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        Assert.Equal("https://example.com/dashboard", redirect.Headers.Location?.OriginalString);
        return traceId;
    }

    /// <summary>The trace as Jaeger's API gives it, once the gateway's server span and the shortener's are both stored.</summary>
    private static async Task<JsonDocument> StoredTraceAsync(TestNode node, string traceId)
    {
        var tracing = node.Node.Services.GetRequiredService<TracerProvider>();
        return (await Eventually.ValueAsync(
            async () =>
            {
                tracing.ForceFlush();
                var response = await node.Http.GetAsync($"/api/traces/{traceId}", Token);
                return response.StatusCode == HttpStatusCode.OK ? JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token)) : null;
            },
            document => document is not null && document.RootElement.GetProperty("data")[0].GetProperty("spans").EnumerateArray()
                .Select(span => span.GetProperty("tags").EnumerateArray().FirstOrDefault(tag => tag.GetProperty("key").GetString() == "span.kind"))
                .Count(kind => kind.ValueKind == JsonValueKind.Object && kind.GetProperty("value").GetString() == "server") >= 2,
            Deadline,
            document => $"trace {traceId} has not both server spans: {document?.RootElement.GetRawText() ?? "not stored"}",
            Token))!;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Blueprint.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no Blueprint.slnx above {AppContext.BaseDirectory}");
    }
}
