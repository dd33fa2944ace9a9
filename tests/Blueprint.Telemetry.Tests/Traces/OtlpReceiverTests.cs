using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Blueprint.Telemetry.Otlp.Collector.Trace;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using static Blueprint.Telemetry.Tests.Traces.TraceKit;

namespace Blueprint.Telemetry.Tests.Traces;

/// <summary>OTLP in (the OpenTelemetry .NET SDK's own exporter, gRPC and HTTP; OTLP/JSON by hand), Jaeger's API out.</summary>
public sealed class OtlpReceiverTests
{
    [Theory]
    [InlineData(OtlpExportProtocol.Grpc)]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    public async Task SpansFromTheOpenTelemetrySdkComeBackThroughJaegersApi(OtlpExportProtocol protocol)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var node = await TestNode.StartAsync(cancellationToken: cancellationToken);
        var service = $"checkout-{protocol}".ToLowerInvariant();
        var sourceName = $"tests.{service}";
        using var source = new ActivitySource(sourceName);
        using var provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(sourceName)
            .SetResourceBuilder(ResourceBuilder.CreateDefault().AddService(service, serviceVersion: "1.2.3"))
            .AddOtlpExporter(options =>
            {
                options.Protocol = protocol;
                options.Endpoint = protocol == OtlpExportProtocol.Grpc ? OtlpGrpc(node) : new Uri(OtlpHttp(node), "/v1/traces");
            })
            .Build();

        string traceId;
        using (var root = source.StartActivity("POST /orders", ActivityKind.Server)!)
        {
            root.SetTag("http.request.method", "POST");
            root.SetTag("order.items", 3);
            traceId = root.TraceId.ToHexString();
            using var child = source.StartActivity("charge card", ActivityKind.Client)!;
            child.SetStatus(ActivityStatusCode.Error, "card declined");
            child.AddEvent(new ActivityEvent("retrying", tags: new ActivityTagsCollection { ["attempt"] = 2 }));
        }

        Assert.True(provider.ForceFlush(10_000));

        var trace = await TraceAsync(node, traceId, 2, cancellationToken);
        Assert.Equal(traceId, trace.GetProperty("traceID").GetString());
        var spans = trace.GetProperty("spans").EnumerateArray().ToDictionary(s => s.GetProperty("operationName").GetString()!);
        Assert.Equal(["POST /orders", "charge card"], spans.Keys.Order(StringComparer.Ordinal));
        var rootSpan = spans["POST /orders"];
        var childSpan = spans["charge card"];
        Assert.Equal("POST", Tag(rootSpan, "http.request.method"));
        Assert.Equal("3", Tag(rootSpan, "order.items"));
        Assert.Equal("server", Tag(rootSpan, "span.kind"));
        Assert.Equal(0, rootSpan.GetProperty("references").GetArrayLength());
        var reference = childSpan.GetProperty("references")[0];
        Assert.Equal("CHILD_OF", reference.GetProperty("refType").GetString());
        Assert.Equal(rootSpan.GetProperty("spanID").GetString(), reference.GetProperty("spanID").GetString());
        Assert.Equal("true", Tag(childSpan, "error"));
        Assert.Equal("card declined", Tag(childSpan, "otel.status_description"));
        var log = childSpan.GetProperty("logs")[0];
        Assert.Equal("retrying", log.GetProperty("fields")[0].GetProperty("value").GetString());
        var process = trace.GetProperty("processes").GetProperty(rootSpan.GetProperty("processID").GetString()!);
        Assert.Equal(service, process.GetProperty("serviceName").GetString());
        Assert.Contains(process.GetProperty("tags").EnumerateArray(), tag => tag.GetProperty("key").GetString() == "service.version" && tag.GetProperty("value").GetString() == "1.2.3");

        Assert.Contains(service, Strings(await JaegerAsync(node, "/api/services", cancellationToken)));
        Assert.Equal(["POST /orders", "charge card"], Strings(await JaegerAsync(node, $"/api/services/{service}/operations", cancellationToken)));
        var found = await JaegerAsync(node, $"/api/traces?service={service}&tags=" + Uri.EscapeDataString("{\"error\":\"true\"}"), cancellationToken);
        Assert.Equal(traceId, Assert.Single(found.EnumerateArray()).GetProperty("traceID").GetString());
    }

    [Fact]
    public async Task OtlpJsonWithHexIdsIsReadAndRepliedToInJson()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var node = await TestNode.StartAsync(cancellationToken: cancellationToken);
        var start = DateTimeOffset.UtcNow.AddSeconds(-5).ToUnixTimeMilliseconds() * 1_000_000;
        var json = $$$"""
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-app"}}]},
             "scopeSpans":[{"scope":{"name":"manual"},"spans":[
              {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"GET /json","kind":2,
               "startTimeUnixNano":"{{{start}}}","endTimeUnixNano":"{{{start + 2_500_000}}}",
               "attributes":[{"key":"http.response.status_code","value":{"intValue":"200"}}]},
              {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","parentSpanId":"eee19b7ec3c1b174","name":"SELECT","kind":3,
               "startTimeUnixNano":"{{{start + 500_000}}}","endTimeUnixNano":"{{{start + 1_500_000}}}","status":{"code":2,"message":"timeout"}}]}]}]}
            """;
        using var http = new HttpClient { BaseAddress = OtlpHttp(node) };
        using var reply = await http.PostAsync(new Uri("/v1/traces", UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"), cancellationToken);
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        Assert.Equal("application/json", reply.Content.Headers.ContentType?.MediaType);
        using (var accepted = JsonDocument.Parse(await reply.Content.ReadAsStringAsync(cancellationToken)))
        {
            Assert.Empty(accepted.RootElement.EnumerateObject()); // no partialSuccess: every span taken
        }

        var trace = await TraceAsync(node, "5b8efff798038103d269b633813fc60c", 2, cancellationToken);
        var spans = trace.GetProperty("spans");
        Assert.Equal("GET /json", spans[0].GetProperty("operationName").GetString());
        Assert.Equal(2500, spans[0].GetProperty("duration").GetInt64());
        Assert.Equal("200", Tag(spans[0], "http.response.status_code"));
        Assert.Equal("eee19b7ec3c1b174", spans[1].GetProperty("references")[0].GetProperty("spanID").GetString());
        Assert.Equal("timeout", Tag(spans[1], "otel.status_description"));
    }

    [Fact]
    public async Task BadRequestsGetOtlpErrorsAndTheNodeKeepsServing()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Telemetry:MaxRequestBytes"] = "4096" }, cancellationToken: cancellationToken);
        using var http = new HttpClient { BaseAddress = OtlpHttp(node) };

        // Not protobuf: 400 with a google.rpc.Status body that says why.
        using (var garbage = new ByteArrayContent([0xff, 0xff, 0xff, 0xff, 0x0f, 0x12]))
        {
            garbage.Headers.ContentType = new("application/x-protobuf");
            using var reply = await http.PostAsync(new Uri("/v1/traces", UriKind.Relative), garbage, cancellationToken);
            Assert.Equal(HttpStatusCode.BadRequest, reply.StatusCode);
            var status = Otlp.Rpc.Status.Parser.ParseFrom(await reply.Content.ReadAsByteArrayAsync(cancellationToken));
            Assert.Contains("not an OTLP ExportTraceServiceRequest", status.Message, StringComparison.Ordinal);
        }

        // JSON with an id that is not hex: 400 in JSON, naming the field.
        using (var reply = await http.PostAsync(new Uri("/v1/traces", UriKind.Relative),
            new StringContent("""{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"not-hex","spanId":"eee19b7ec3c1b174","name":"x"}]}]}]}""", Encoding.UTF8, "application/json"), cancellationToken))
        {
            Assert.Equal(HttpStatusCode.BadRequest, reply.StatusCode);
            using var body = JsonDocument.Parse(await reply.Content.ReadAsStringAsync(cancellationToken));
            Assert.Contains("traceId 'not-hex' is not hex", body.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // Another media type: 415.
        using (var reply = await http.PostAsync(new Uri("/v1/traces", UriKind.Relative), new StringContent("x", Encoding.UTF8, "text/plain"), cancellationToken))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, reply.StatusCode);
        }

        // Over Telemetry:MaxRequestBytes: 413, whether the length is declared or the body is streamed.
        var big = Request("big", [.. Enumerable.Range(1, 200).Select(i => Span(TraceId(1), SpanId(i), null, new string('x', 40), DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1)))]);
        using (var reply = await PostProtobufAsync(node, big, cancellationToken))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, reply.StatusCode);
            Assert.Contains("Telemetry:MaxRequestBytes", Otlp.Rpc.Status.Parser.ParseFrom(await reply.Content.ReadAsByteArrayAsync(cancellationToken)).Message, StringComparison.Ordinal);
        }

        using (var streamed = new StreamContent(new MemoryStream(Google.Protobuf.MessageExtensions.ToByteArray(big))))
        {
            streamed.Headers.ContentType = new("application/x-protobuf");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = streamed };
            request.Headers.TransferEncodingChunked = true;
            using var reply = await http.SendAsync(request, cancellationToken);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, reply.StatusCode);
        }

        // The same over gRPC: RESOURCE_EXHAUSTED from gRPC's own message limit.
        using (var channel = GrpcChannel.ForAddress(OtlpGrpc(node)))
        {
            var client = new TraceService.TraceServiceClient(channel);
            var failure = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(big, cancellationToken: cancellationToken));
            Assert.Equal(Grpc.Core.StatusCode.ResourceExhausted, failure.StatusCode);
        }

        // Spans with invalid ids are rejected by count; the valid one in the same request is stored.
        var mixed = Request("mixed",
            Span(TraceId(7), SpanId(1), null, "ok", DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1)),
            Span(new byte[16], SpanId(2), null, "zero trace id", DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1)),
            Span(TraceId(7), [1, 2, 3], null, "short span id", DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1)));
        using (var reply = await PostProtobufAsync(node, mixed, cancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
            var response = ExportTraceServiceResponse.Parser.ParseFrom(await reply.Content.ReadAsByteArrayAsync(cancellationToken));
            Assert.Equal(2, response.PartialSuccess.RejectedSpans);
            Assert.Contains("invalid trace or span id", response.PartialSuccess.ErrorMessage, StringComparison.Ordinal);
        }

        var stored = await TraceAsync(node, Convert.ToHexStringLower(TraceId(7)), 1, cancellationToken);
        Assert.Equal("ok", Assert.Single(stored.GetProperty("spans").EnumerateArray()).GetProperty("operationName").GetString());
        Assert.Equal(2, Ingest(node).Dropped);
    }
}
