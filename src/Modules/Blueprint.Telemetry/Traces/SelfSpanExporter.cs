using System.Diagnostics;
using Blueprint.Telemetry.Otlp.Common;
using Blueprint.Telemetry.Otlp.Trace;
using Google.Protobuf;
using OpenTelemetry;
using OtelResource = OpenTelemetry.Resources.Resource;
using OtlpResource = Blueprint.Telemetry.Otlp.Resource.Resource;

namespace Blueprint.Telemetry.Traces;

/// <summary>
/// The node's own spans into its own store, in process: the tracer provider's batches become OTLP spans without a trip
/// through the network or a serializer, and go through the same bounded queue as any exporter's (dropped and counted
/// when it is full, never waited on).
/// </summary>
internal sealed class SelfSpanExporter(SpanIngest ingest) : BaseExporter<Activity>
{
    private OtlpResource? _resource;
    private string _service = SpanGroup.UnknownService;

    public override ExportResult Export(in Batch<Activity> batch)
    {
        if (_resource is null)
        {
            _resource = ToOtlp(ParentProvider?.GetResource() ?? OtelResource.Empty);
            _service = SpanGroup.ServiceOf(_resource);
        }

        var spans = new List<Span>((int)Math.Min(batch.Count, 4096));
        foreach (var activity in batch)
        {
            spans.Add(ToSpan(activity));
        }

        ingest.TryEnqueue([new SpanGroup(_resource, _service, spans)], "self");
        return ExportResult.Success;
    }

    internal static OtlpResource ToOtlp(OtelResource resource)
    {
        var otlp = new OtlpResource();
        foreach (var (key, value) in resource.Attributes)
        {
            otlp.Attributes.Add(new KeyValue { Key = key, Value = ToAnyValue(value) });
        }

        return otlp;
    }

    internal static Span ToSpan(Activity activity)
    {
        Span<byte> id = stackalloc byte[16];
        activity.TraceId.CopyTo(id);
        var span = new Span
        {
            TraceId = ByteString.CopyFrom(id),
            Name = activity.DisplayName,
            Kind = activity.Kind switch
            {
                ActivityKind.Server => Span.Types.SpanKind.Server,
                ActivityKind.Client => Span.Types.SpanKind.Client,
                ActivityKind.Producer => Span.Types.SpanKind.Producer,
                ActivityKind.Consumer => Span.Types.SpanKind.Consumer,
                _ => Span.Types.SpanKind.Internal,
            },
            StartTimeUnixNano = UnixNanos(activity.StartTimeUtc),
            EndTimeUnixNano = UnixNanos(activity.StartTimeUtc + activity.Duration),
            Flags = (uint)activity.ActivityTraceFlags,
        };
        activity.SpanId.CopyTo(id[..8]);
        span.SpanId = ByteString.CopyFrom(id[..8]);
        if (activity.ParentSpanId != default)
        {
            activity.ParentSpanId.CopyTo(id[..8]);
            span.ParentSpanId = ByteString.CopyFrom(id[..8]);
        }

        if (activity.TraceStateString is { Length: > 0 } state)
        {
            span.TraceState = state;
        }

        foreach (var (key, value) in activity.TagObjects)
        {
            if (value is not null)
            {
                span.Attributes.Add(new KeyValue { Key = key, Value = ToAnyValue(value) });
            }
        }

        foreach (var activityEvent in activity.Events)
        {
            var otlpEvent = new Span.Types.Event { Name = activityEvent.Name, TimeUnixNano = UnixNanos(activityEvent.Timestamp.UtcDateTime) };
            foreach (var (key, value) in activityEvent.Tags)
            {
                otlpEvent.Attributes.Add(new KeyValue { Key = key, Value = ToAnyValue(value) });
            }

            span.Events.Add(otlpEvent);
        }

        foreach (var link in activity.Links)
        {
            link.Context.TraceId.CopyTo(id);
            var otlpLink = new Span.Types.Link { TraceId = ByteString.CopyFrom(id) };
            link.Context.SpanId.CopyTo(id[..8]);
            otlpLink.SpanId = ByteString.CopyFrom(id[..8]);
            span.Links.Add(otlpLink);
        }

        if (activity.Status != ActivityStatusCode.Unset)
        {
            span.Status = new Status
            {
                Code = activity.Status == ActivityStatusCode.Error ? Status.Types.StatusCode.Error : Status.Types.StatusCode.Ok,
                Message = activity.StatusDescription ?? "",
            };
        }

        return span;
    }

    private static ulong UnixNanos(DateTime utc) => (ulong)Math.Max(0, (utc - DateTime.UnixEpoch).Ticks) * 100;

    private static AnyValue ToAnyValue(object? value) => value switch
    {
        null => new AnyValue { StringValue = "" },
        string text => new AnyValue { StringValue = text },
        bool flag => new AnyValue { BoolValue = flag },
        int or long or short or byte or sbyte or ushort or uint => new AnyValue { IntValue = Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) },
        double or float or decimal => new AnyValue { DoubleValue = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture) },
        System.Collections.IEnumerable items => Array(items),
        _ => new AnyValue { StringValue = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "" },
    };

    private static AnyValue Array(System.Collections.IEnumerable items)
    {
        var array = new ArrayValue();
        foreach (var item in items)
        {
            array.Values.Add(ToAnyValue(item));
        }

        return new AnyValue { ArrayValue = array };
    }
}
