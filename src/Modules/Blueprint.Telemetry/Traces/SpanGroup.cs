using Blueprint.Telemetry.Otlp.Common;
using Blueprint.Telemetry.Otlp.Resource;
using Blueprint.Telemetry.Otlp.Trace;

namespace Blueprint.Telemetry.Traces;

/// <summary>Spans of one resource (one process of one service), as they arrive and as they are stored.</summary>
/// <param name="Resource">The process: its attributes, <c>service.name</c> among them.</param>
/// <param name="Service">The resource's <c>service.name</c>, or <c>unknown_service</c>.</param>
/// <param name="Spans">The spans.</param>
internal sealed record SpanGroup(Resource Resource, string Service, IReadOnlyList<Span> Spans)
{
    /// <summary>The service of spans with no <c>service.name</c>, as the OpenTelemetry SDKs name it.</summary>
    public const string UnknownService = "unknown_service";

    /// <summary>Groups an OTLP request's spans by resource.</summary>
    public static List<SpanGroup> From(IEnumerable<ResourceSpans> resourceSpans, out int spans)
    {
        spans = 0;
        var groups = new List<SpanGroup>();
        foreach (var resource in resourceSpans)
        {
            var list = new List<Span>();
            foreach (var scope in resource.ScopeSpans)
            {
                list.AddRange(scope.Spans);
            }

            if (list.Count == 0)
            {
                continue;
            }

            spans += list.Count;
            var process = resource.Resource ?? new Resource();
            groups.Add(new SpanGroup(process, ServiceOf(process), list));
        }

        return groups;
    }

    /// <summary>The <c>service.name</c> attribute of <paramref name="resource"/>.</summary>
    public static string ServiceOf(Resource resource)
    {
        foreach (var attribute in resource.Attributes)
        {
            if (attribute.Key == "service.name" && attribute.Value?.ValueCase == AnyValue.ValueOneofCase.StringValue && attribute.Value.StringValue.Length > 0)
            {
                return attribute.Value.StringValue;
            }
        }

        return UnknownService;
    }
}
