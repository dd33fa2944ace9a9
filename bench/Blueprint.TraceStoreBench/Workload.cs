using Blueprint.Telemetry.Otlp.Common;
using Blueprint.Telemetry.Otlp.Resource;
using Blueprint.Telemetry.Otlp.Trace;
using Blueprint.Telemetry.Traces;
using Google.Protobuf;

namespace Blueprint.TraceStoreBench;

/// <summary>A search the bench runs: a service, at most one tag, a time window.</summary>
internal sealed record Probe(string Service, string Key, string Value, long FromMicros, long ToMicros);

/// <summary>
/// The synthetic workload, the same for every engine: traces of 1–20 spans over 10 services of 5 operations each,
/// a trace every 50–400 ms of simulated time, each span with six attributes (one of them a user id drawn from a
/// million), cut into write batches of <see cref="BatchSpans"/> spans grouped by service as the ingest loop hands them.
/// Everything comes from one seeded <see cref="Random"/>: two runs with the same seed write the same bytes.
/// </summary>
internal sealed class Workload
{
    public const int BatchSpans = 4096;
    public const int Services = 10;
    public const int OperationsPerService = 5;
    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "GET"];
    private static readonly DateTime Epoch = new(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);

    public List<List<SpanGroup>> Batches { get; } = [];

    public List<byte[]> TraceIds { get; } = [];

    /// <summary>One span's service and each of its tags (as the store indexes them) with its start, every 97th span.</summary>
    public List<(string Service, long StartMicros, (string Key, string Value)[] Tags)> Samples { get; } = [];

    public long Spans { get; private set; }

    public long FirstMicros { get; private set; }

    public long LastMicros { get; private set; }

    public static Workload Generate(long spans, int seed)
    {
        var workload = new Workload();
        var random = new Random(seed);
        var resources = new Resource[Services];
        var names = new string[Services];
        for (var s = 0; s < Services; s++)
        {
            names[s] = $"svc-{s:D2}";
            resources[s] = new Resource
            {
                Attributes =
                {
                    Attr("service.name", names[s]),
                    Attr("service.version", "1.4.2"),
                    Attr("host.name", $"host-{s:D2}"),
                },
            };
        }

        var now = (long)(Epoch - DateTime.UnixEpoch).TotalMicroseconds;
        workload.FirstMicros = now;
        var pending = new Dictionary<int, List<Span>>();
        var inBatch = 0;
        var spanIds = new List<ByteString>(20);
        while (workload.Spans < spans)
        {
            var size = (int)Math.Min(random.Next(1, 21), spans - workload.Spans);
            var traceId = new byte[16];
            random.NextBytes(traceId);
            workload.TraceIds.Add(traceId);
            var trace = ByteString.CopyFrom(traceId);
            var user = $"user-{random.Next(1_000_000):D6}";
            spanIds.Clear();
            for (var j = 0; j < size; j++)
            {
                var service = random.Next(Services);
                var operation = random.Next(OperationsPerService);
                var spanId = new byte[8];
                random.NextBytes(spanId);
                var id = ByteString.CopyFrom(spanId);
                var start = now + (j * random.Next(0, 2000));
                var duration = random.Next(100, 200_000);
                var roll = random.Next(100);
                var status = roll < 85 ? 200 : roll < 95 ? 404 : 500;
                var route = $"/api/{names[service]}/r{operation}/{{id}}";
                var span = new Span
                {
                    TraceId = trace,
                    SpanId = id,
                    ParentSpanId = j == 0 ? ByteString.Empty : spanIds[random.Next(j)],
                    Name = $"{Methods[operation]} {route}",
                    Kind = j == 0 ? Span.Types.SpanKind.Server : (Span.Types.SpanKind)random.Next(2, 4),
                    StartTimeUnixNano = (ulong)start * 1000,
                    EndTimeUnixNano = (ulong)(start + duration) * 1000,
                    Attributes =
                    {
                        Attr("http.method", Methods[operation]),
                        Attr("http.route", route),
                        new KeyValue { Key = "http.status_code", Value = new AnyValue { IntValue = status } },
                        Attr("net.peer.name", $"{names[random.Next(Services)]}.internal"),
                        Attr("enduser.id", user),
                        new KeyValue { Key = "cache.hit", Value = new AnyValue { BoolValue = random.Next(4) == 0 } },
                    },
                    Status = status == 500 ? new Status { Code = Status.Types.StatusCode.Error } : null,
                };
                spanIds.Add(id);
                if (!pending.TryGetValue(service, out var list))
                {
                    pending[service] = list = [];
                }

                list.Add(span);
                workload.Spans++;
                if (workload.Spans % 97 == 0)
                {
                    workload.Samples.Add((names[service], start, [.. SpanStore.IndexedTags(span)]));
                }

                workload.LastMicros = Math.Max(workload.LastMicros, start);
                if (++inBatch == BatchSpans)
                {
                    workload.Batches.Add(Flush(pending, resources, names));
                    inBatch = 0;
                }
            }

            now += random.Next(50_000, 400_000);
        }

        if (inBatch > 0)
        {
            workload.Batches.Add(Flush(pending, resources, names));
        }

        return workload;
    }

    private static List<SpanGroup> Flush(Dictionary<int, List<Span>> pending, Resource[] resources, string[] names)
    {
        var groups = new List<SpanGroup>(pending.Count);
        foreach (var (service, spans) in pending.OrderBy(p => p.Key))
        {
            groups.Add(new SpanGroup(resources[service], names[service], [.. spans]));
        }

        pending.Clear();
        return groups;
    }

    private static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };
}
