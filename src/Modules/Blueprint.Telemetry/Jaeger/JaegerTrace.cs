using System.Globalization;
using System.Text.Json;
using Blueprint.Telemetry.Otlp.Common;
using Blueprint.Telemetry.Otlp.Trace;
using Blueprint.Telemetry.Traces;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using OtlpResource = Blueprint.Telemetry.Otlp.Resource.Resource;

namespace Blueprint.Telemetry.Jaeger;

/// <summary>One trace: its spans, ordered by start time.</summary>
internal sealed record JaegerTrace(string TraceId, IReadOnlyList<StoredSpan> Spans)
{
    public static List<JaegerTrace> Group(IReadOnlyList<StoredSpan> spans) =>
    [
        .. spans.GroupBy(span => Convert.ToHexStringLower(span.Span.TraceId.Span))
            .Select(trace => new JaegerTrace(trace.Key, [.. trace.OrderBy(span => span.Span.StartTimeUnixNano)])),
    ];
}

/// <summary>
/// Traces written in Jaeger's JSON model (model/json of jaeger-query): spans with <c>references</c> (CHILD_OF the parent,
/// FOLLOWS_FROM each link), <c>tags</c> typed as string, bool, int64, float64 or binary, <c>logs</c> from span events, and
/// processes named p1, p2… per trace. OpenTelemetry's span kind and status become the tags Jaeger's own OTLP receiver
/// writes: <c>span.kind</c>, <c>otel.status_code</c>, <c>otel.status_description</c> and <c>error=true</c>.
/// </summary>
internal sealed class JaegerTraces(IReadOnlyList<JaegerTrace> traces, int limit) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
        await using (writer.ConfigureAwait(false))
        {
            Write(writer);
            await writer.FlushAsync(httpContext.RequestAborted).ConfigureAwait(false);
        }
    }

    internal void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("data");
        foreach (var trace in traces)
        {
            WriteTrace(writer, trace);
        }

        writer.WriteEndArray();
        writer.WriteNumber("total", traces.Count);
        writer.WriteNumber("limit", limit);
        writer.WriteNumber("offset", 0);
        writer.WriteNull("errors");
        writer.WriteEndObject();
    }

    private static void WriteTrace(Utf8JsonWriter writer, JaegerTrace trace)
    {
        var processes = new Dictionary<OtlpResource, string>();
        foreach (var span in trace.Spans)
        {
            if (!processes.ContainsKey(span.Resource))
            {
                processes[span.Resource] = "p" + (processes.Count + 1).ToString(CultureInfo.InvariantCulture);
            }
        }

        writer.WriteStartObject();
        writer.WriteString("traceID", trace.TraceId);
        writer.WriteStartArray("spans");
        foreach (var stored in trace.Spans)
        {
            WriteSpan(writer, trace.TraceId, stored.Span, processes[stored.Resource]);
        }

        writer.WriteEndArray();
        writer.WriteStartObject("processes");
        foreach (var (resource, id) in processes)
        {
            writer.WriteStartObject(id);
            writer.WriteString("serviceName", SpanGroup.ServiceOf(resource));
            writer.WriteStartArray("tags");
            foreach (var attribute in resource.Attributes.Where(a => a.Key != "service.name"))
            {
                WriteTag(writer, attribute.Key, attribute.Value);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteNull("warnings");
        writer.WriteEndObject();
    }

    private static void WriteSpan(Utf8JsonWriter writer, string traceId, Span span, string processId)
    {
        writer.WriteStartObject();
        writer.WriteString("traceID", traceId);
        writer.WriteString("spanID", Convert.ToHexStringLower(span.SpanId.Span));
        writer.WriteNumber("flags", span.Flags & 0xff);
        writer.WriteString("operationName", span.Name);
        writer.WriteStartArray("references");
        if (!span.ParentSpanId.IsEmpty)
        {
            WriteReference(writer, "CHILD_OF", span.TraceId, span.ParentSpanId);
        }

        foreach (var link in span.Links)
        {
            WriteReference(writer, "FOLLOWS_FROM", link.TraceId, link.SpanId);
        }

        writer.WriteEndArray();
        writer.WriteNumber("startTime", (long)(span.StartTimeUnixNano / 1000));
        writer.WriteNumber("duration", span.EndTimeUnixNano > span.StartTimeUnixNano ? (long)((span.EndTimeUnixNano - span.StartTimeUnixNano) / 1000) : 0);
        writer.WriteStartArray("tags");
        foreach (var attribute in span.Attributes)
        {
            WriteTag(writer, attribute.Key, attribute.Value);
        }

        if (span.Kind is not Span.Types.SpanKind.Unspecified and not Span.Types.SpanKind.Internal)
        {
            WriteString(writer, "span.kind", JaegerApi.KindName((int)span.Kind));
        }

        if (span.Status is { Code: not Status.Types.StatusCode.Unset } status)
        {
            WriteString(writer, "otel.status_code", status.Code == Status.Types.StatusCode.Error ? "ERROR" : "OK");
            if (status.Message.Length > 0)
            {
                WriteString(writer, "otel.status_description", status.Message);
            }

            if (status.Code == Status.Types.StatusCode.Error)
            {
                writer.WriteStartObject();
                writer.WriteString("key", "error");
                writer.WriteString("type", "bool");
                writer.WriteBoolean("value", true);
                writer.WriteEndObject();
            }
        }

        writer.WriteEndArray();
        writer.WriteStartArray("logs");
        foreach (var spanEvent in span.Events)
        {
            writer.WriteStartObject();
            writer.WriteNumber("timestamp", (long)(spanEvent.TimeUnixNano / 1000));
            writer.WriteStartArray("fields");
            WriteString(writer, "event", spanEvent.Name);
            foreach (var attribute in spanEvent.Attributes)
            {
                WriteTag(writer, attribute.Key, attribute.Value);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteString("processID", processId);
        writer.WriteNull("warnings");
        writer.WriteEndObject();
    }

    private static void WriteReference(Utf8JsonWriter writer, string type, ByteString traceId, ByteString spanId)
    {
        writer.WriteStartObject();
        writer.WriteString("refType", type);
        writer.WriteString("traceID", Convert.ToHexStringLower(traceId.Span));
        writer.WriteString("spanID", Convert.ToHexStringLower(spanId.Span));
        writer.WriteEndObject();
    }

    private static void WriteString(Utf8JsonWriter writer, string key, string value)
    {
        writer.WriteStartObject();
        writer.WriteString("key", key);
        writer.WriteString("type", "string");
        writer.WriteString("value", value);
        writer.WriteEndObject();
    }

    private static void WriteTag(Utf8JsonWriter writer, string key, AnyValue? value)
    {
        writer.WriteStartObject();
        writer.WriteString("key", key);
        switch (value?.ValueCase)
        {
            case AnyValue.ValueOneofCase.BoolValue:
                writer.WriteString("type", "bool");
                writer.WriteBoolean("value", value.BoolValue);
                break;
            case AnyValue.ValueOneofCase.IntValue:
                writer.WriteString("type", "int64");
                writer.WriteNumber("value", value.IntValue);
                break;
            case AnyValue.ValueOneofCase.DoubleValue:
                writer.WriteString("type", "float64");
                writer.WriteNumber("value", double.IsFinite(value.DoubleValue) ? value.DoubleValue : 0);
                break;
            case AnyValue.ValueOneofCase.BytesValue:
                writer.WriteString("type", "binary");
                writer.WriteString("value", Convert.ToBase64String(value.BytesValue.Span));
                break;
            case AnyValue.ValueOneofCase.StringValue:
                writer.WriteString("type", "string");
                writer.WriteString("value", value.StringValue);
                break;
            default:
                // Arrays and maps become their JSON text, as Jaeger's OTLP translator writes them.
                writer.WriteString("type", "string");
                writer.WriteString("value", value is null ? "" : JsonFormatter.Default.Format(value));
                break;
        }

        writer.WriteEndObject();
    }
}
