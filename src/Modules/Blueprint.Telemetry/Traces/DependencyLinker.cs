using Blueprint.Telemetry.Otlp.Trace;
using Google.Protobuf;

namespace Blueprint.Telemetry.Traces;

/// <summary>
/// The service graph, counted as spans are written rather than joined at query time: a span whose parent belongs to
/// another service is one call from the parent's service to its own. A child usually ends, and is exported, before its
/// parent, so both orders are matched: the services of the last <c>capacity</c> spans are remembered, and so are the
/// last <c>capacity</c> children whose parent has not arrived yet. A parent that arrives after that many other spans is
/// not linked: the graph undercounts calls whose two spans are exported that far apart (stated in docs/tracing.md).
/// Only the ingest loop calls it.
/// </summary>
internal sealed class DependencyLinker(int capacity)
{
    private static readonly List<(string Parent, string Child, long ChildStart)> None = [];
    private readonly Dictionary<(ByteString Trace, ByteString Span), string> _services = [];
    private readonly Queue<(ByteString Trace, ByteString Span)> _servicesOrder = new();
    private readonly Dictionary<(ByteString Trace, ByteString Parent), List<(string Child, long Start)>> _waiting = [];
    private readonly Queue<(ByteString Trace, ByteString Parent)> _waitingOrder = new();

    /// <summary>Records <paramref name="span"/> of <paramref name="service"/>; returns the calls it completes.</summary>
    public List<(string Parent, string Child, long ChildStart)> Add(Span span, string service, long startMicros)
    {
        var links = None;
        if (_waiting.Remove((span.TraceId, span.SpanId), out var children))
        {
            foreach (var (child, childStart) in children)
            {
                if (child != service)
                {
                    links = links == None ? [] : links;
                    links.Add((service, child, childStart));
                }
            }
        }

        if (!span.ParentSpanId.IsEmpty)
        {
            var parent = (span.TraceId, span.ParentSpanId);
            if (_services.TryGetValue(parent, out var parentService))
            {
                if (parentService != service)
                {
                    links = links == None ? [] : links;
                    links.Add((parentService, service, startMicros));
                }
            }
            else
            {
                if (!_waiting.TryGetValue(parent, out var list))
                {
                    _waiting[parent] = list = [];
                    _waitingOrder.Enqueue(parent);
                    if (_waitingOrder.Count > capacity)
                    {
                        _waiting.Remove(_waitingOrder.Dequeue());
                    }
                }

                list.Add((service, startMicros));
            }
        }

        var self = (span.TraceId, span.SpanId);
        if (_services.TryAdd(self, service))
        {
            _servicesOrder.Enqueue(self);
            if (_servicesOrder.Count > capacity)
            {
                _services.Remove(_servicesOrder.Dequeue());
            }
        }

        return links;
    }
}
