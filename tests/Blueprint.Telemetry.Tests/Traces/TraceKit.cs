using System.Net.Http.Json;
using System.Text.Json;
using Blueprint.Telemetry.Otlp.Collector.Trace;
using Blueprint.Telemetry.Otlp.Common;
using Blueprint.Telemetry.Otlp.Resource;
using Blueprint.Telemetry.Otlp.Trace;
using Blueprint.Telemetry.Traces;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Telemetry.Tests.Traces;

/// <summary>What the trace tests share: a node's OTLP addresses, spans built by hand, and reads through the Jaeger API.</summary>
internal static class TraceKit
{
    public static Uri OtlpHttp(TestNode node) => new($"http://127.0.0.1:{node.PortOf("Telemetry:OtlpHttpPort")}");

    public static Uri OtlpGrpc(TestNode node) => new($"http://127.0.0.1:{node.PortOf("Telemetry:OtlpGrpcPort")}");

    public static SpanIngest Ingest(TestNode node) => node.Node.Services.GetRequiredService<SpanIngest>();

    /// <summary>Waits until the store has written every span queued so far.</summary>
    public static Task DrainedAsync(TestNode node, CancellationToken cancellationToken) =>
        Eventually.TrueAsync(() => Ingest(node).Queued == 0, TimeSpan.FromSeconds(20), () => $"{Ingest(node).Queued} spans still queued", cancellationToken);

    public static byte[] TraceId(int n)
    {
        var id = new byte[16];
        id[0] = 0xab;
        BitConverter.TryWriteBytes(id.AsSpan(12), n);
        return id;
    }

    public static byte[] SpanId(int n)
    {
        var id = new byte[8];
        id[0] = 0xcd;
        BitConverter.TryWriteBytes(id.AsSpan(4), n);
        return id;
    }

    public static Span Span(byte[] traceId, byte[] spanId, byte[]? parent, string name, DateTimeOffset start, TimeSpan duration, params (string Key, object Value)[] attributes)
    {
        var startNanos = (ulong)start.ToUnixTimeMilliseconds() * 1_000_000UL;
        var span = new Span
        {
            TraceId = ByteString.CopyFrom(traceId),
            SpanId = ByteString.CopyFrom(spanId),
            Name = name,
            Kind = parent is null ? Otlp.Trace.Span.Types.SpanKind.Server : Otlp.Trace.Span.Types.SpanKind.Client,
            StartTimeUnixNano = startNanos,
            EndTimeUnixNano = startNanos + (ulong)(duration.Ticks * 100),
        };
        if (parent is not null)
        {
            span.ParentSpanId = ByteString.CopyFrom(parent);
        }

        foreach (var (key, value) in attributes)
        {
            span.Attributes.Add(new KeyValue
            {
                Key = key,
                Value = value switch
                {
                    string text => new AnyValue { StringValue = text },
                    bool flag => new AnyValue { BoolValue = flag },
                    int number => new AnyValue { IntValue = number },
                    double real => new AnyValue { DoubleValue = real },
                    _ => throw new ArgumentException("unsupported attribute type", nameof(attributes)),
                }
            });
        }

        return span;
    }

    public static ExportTraceServiceRequest Request(string service, params Span[] spans)
    {
        var resource = new Resource();
        resource.Attributes.Add(new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = service } });
        resource.Attributes.Add(new KeyValue { Key = "host.name", Value = new AnyValue { StringValue = "test-host" } });
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "tests" } };
        scope.Spans.AddRange(spans);
        var resourceSpans = new ResourceSpans { Resource = resource };
        resourceSpans.ScopeSpans.Add(scope);
        var request = new ExportTraceServiceRequest();
        request.ResourceSpans.Add(resourceSpans);
        return request;
    }

    public static async Task<HttpResponseMessage> PostProtobufAsync(TestNode node, IMessage request, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = OtlpHttp(node) };
        using var content = new ByteArrayContent(request.ToByteArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-protobuf");
        return await http.PostAsync(new Uri("/v1/traces", UriKind.Relative), content, cancellationToken);
    }

    /// <summary>A Jaeger API reply's <c>data</c>.</summary>
    public static async Task<JsonElement> JaegerAsync(TestNode node, string path, CancellationToken cancellationToken)
    {
        var reply = await node.Http.GetFromJsonAsync<JsonElement>(new Uri(path, UriKind.Relative), cancellationToken);
        Assert.Equal(JsonValueKind.Null, reply.GetProperty("errors").ValueKind);
        return reply.GetProperty("data");
    }

    /// <summary>Waits until a trace is readable through the Jaeger API with at least <paramref name="spans"/> spans.</summary>
    public static Task<JsonElement> TraceAsync(TestNode node, string traceId, int spans, CancellationToken cancellationToken) =>
        Eventually.ValueAsync(
            async () =>
            {
                var reply = await node.Http.GetAsync(new Uri($"/api/traces/{traceId}", UriKind.Relative), cancellationToken);
                if (!reply.IsSuccessStatusCode)
                {
                    return default;
                }

                var body = await reply.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
                return body.GetProperty("data")[0];
            },
            trace => trace.ValueKind == JsonValueKind.Object && trace.GetProperty("spans").GetArrayLength() >= spans,
            TimeSpan.FromSeconds(20),
            trace => $"trace {traceId}: {(trace.ValueKind == JsonValueKind.Object ? trace.GetProperty("spans").GetArrayLength() : 0)} of {spans} spans",
            cancellationToken);

    public static IEnumerable<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!);

    /// <summary>A span's tag value (as JSON text for non-strings), or null.</summary>
    public static string? Tag(JsonElement span, string key)
    {
        foreach (var tag in span.GetProperty("tags").EnumerateArray())
        {
            if (tag.GetProperty("key").GetString() == key)
            {
                var value = tag.GetProperty("value");
                return value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText();
            }
        }

        return null;
    }
}
