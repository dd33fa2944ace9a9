using System.Net;
using System.Text;
using System.Text.Json;

namespace Blueprint.Dashboard.Browser.Tests;

/// <summary>
/// One checkout as four services would export it over OTLP/HTTP (JSON): web calls checkout-api, which calls inventory and
/// payments. The payment's first attempt fails (an error span) and its charge logs an event.
/// </summary>
internal static class OtlpTrace
{
    public const int SpanCount = 10;

    /// <summary>Posts the trace to the node's OTLP/HTTP receiver, ending about half a minute ago; returns its trace id.</summary>
    public static async Task<string> PostAsync(TestNode node, CancellationToken cancellationToken)
    {
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        var start = DateTimeOffset.UtcNow.AddSeconds(-30).ToUnixTimeMilliseconds() * 1_000_000;
        var ids = new Dictionary<string, string>();
        string Id(string name) => ids.TryGetValue(name, out var id) ? id : ids[name] = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..8]);
        object Span(string name, string operation, string? parent, int kind, double fromMs, double toMs, object[]? attributes = null, object[]? events = null, bool error = false) => new
        {
            traceId,
            spanId = Id(name),
            parentSpanId = parent is null ? "" : Id(parent),
            name = operation,
            kind,
            startTimeUnixNano = (start + (long)(fromMs * 1_000_000)).ToString(System.Globalization.CultureInfo.InvariantCulture),
            endTimeUnixNano = (start + (long)(toMs * 1_000_000)).ToString(System.Globalization.CultureInfo.InvariantCulture),
            attributes = attributes ?? [],
            events = events ?? [],
            status = error ? new { code = 2, message = "card declined by issuer (retryable)" } : new { code = 0, message = "" },
        };
        object Attribute(string key, string value) => new { key, value = new { stringValue = value } };
        object Service(string service, params object[] spans) => new
        {
            resource = new { attributes = new[] { Attribute("service.name", service), Attribute("service.version", "1.4.2"), Attribute("host.name", $"{service}-7d9f") } },
            scopeSpans = new[] { new { scope = new { name = "checkout-demo" }, spans } },
        };
        const int Server = 2, Client = 3;
        var body = new
        {
            resourceSpans = new[]
            {
                Service("web",
                    Span("web", "GET /checkout", null, Server, 0, 182, [Attribute("http.request.method", "GET"), Attribute("http.route", "/checkout")]),
                    Span("web-call", "POST /api/orders", "web", Client, 6, 176, [Attribute("http.request.method", "POST"), Attribute("server.address", "checkout-api")])),
                Service("checkout-api",
                    Span("orders", "POST /api/orders", "web-call", Server, 9, 172, [Attribute("http.route", "/api/orders"), Attribute("http.response.status_code", "201")]),
                    Span("select", "SELECT orders", "orders", Client, 12, 27, [Attribute("db.system", "postgresql"), Attribute("db.statement", "SELECT id FROM orders WHERE cart = $1")]),
                    Span("reserve-call", "POST /reserve", "orders", Client, 29, 71),
                    Span("charge-call-1", "POST /charge", "orders", Client, 74, 98, error: true),
                    Span("charge-call-2", "POST /charge", "orders", Client, 101, 166)),
                Service("inventory",
                    Span("reserve", "POST /reserve", "reserve-call", Server, 32, 68, [Attribute("inventory.sku", "BP-1138"), Attribute("inventory.quantity", "2")])),
                Service("payments",
                    Span("charge", "POST /charge", "charge-call-2", Server, 104, 163,
                        [Attribute("payment.provider", "acme-pay"), Attribute("payment.amount", "49.90 EUR")],
                        [new { timeUnixNano = (start + 150_000_000L).ToString(System.Globalization.CultureInfo.InvariantCulture), name = "card authorized", attributes = new[] { Attribute("auth.code", "A7X2") } }]),
                    Span("ledger", "INSERT ledger", "charge", Client, 152, 160, [Attribute("db.system", "sqlite")])),
            },
        };
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{node.PortOf("Telemetry:OtlpHttpPort")}/") };
        using var content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri("/v1/traces", UriKind.Relative), content, cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        return traceId;
    }
}
