using System.Diagnostics;
using System.Globalization;
using System.IO.Hashing;
using Blueprint.Telemetry.Traces;
using Blueprint.TraceStoreBench;

// The trace store's engine measured: the same synthetic spans written to and read from SQLite (the module's SpanStore)
// and DuckDB (DuckDbSpanStore, with and without an ART index on trace_id). Prints a Markdown table.
// Usage: Blueprint.TraceStoreBench [--spans N] [--quick] [--seed N] [--dir DIR] [--engines sqlite,duckdb,duckdb-art]
//        [--duckdb-threads N]   (DuckDB's worker threads; default: its own, one a core)
var spans = 1_000_000L;
var seed = 42;
var directory = Path.Combine(Path.GetTempPath(), $"trace-engines-{Environment.ProcessId}");
var engines = "sqlite,duckdb,duckdb-art";
int? duckThreads = null;
const int Lookups = 2000;
const int Searches = 200;
const int Warmup = 50;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--spans": spans = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--quick": spans = 100_000; break;
        case "--seed": seed = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--dir": directory = args[++i]; break;
        case "--engines": engines = args[++i]; break;
        case "--duckdb-threads": duckThreads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

var generated = Stopwatch.StartNew();
var workload = Workload.Generate(spans, seed);
Console.Error.WriteLine($"workload: {workload.Spans} spans, {workload.TraceIds.Count} traces, {workload.Batches.Count} batches, {(workload.LastMicros - workload.FirstMicros) / 3_600_000_000.0:F1} h of spans, generated in {generated.Elapsed.TotalSeconds:F1} s");

// The probes: drawn once, from their own seeded generator, so every engine answers the same questions.
var probeRandom = new Random(seed + 1);
var lookupIds = Enumerable.Range(0, Lookups).Select(_ => workload.TraceIds[probeRandom.Next(workload.TraceIds.Count)]).ToArray();
const long HalfWindow = 30L * 60 * 1_000_000;
TraceQuery QueryAround((string Service, long StartMicros, (string Key, string Value)[] Tags) sample, bool tag) => new()
{
    Service = sample.Service,
    Tags = tag ? [sample.Tags[probeRandom.Next(sample.Tags.Length)]] : [],
    StartMicros = sample.StartMicros - HalfWindow,
    EndMicros = sample.StartMicros + HalfWindow,
    Limit = 20,
};
var tagQueries = Enumerable.Range(0, Searches).Select(_ => QueryAround(workload.Samples[probeRandom.Next(workload.Samples.Count)], tag: true)).ToArray();
var serviceQueries = Enumerable.Range(0, Searches).Select(_ => QueryAround(workload.Samples[probeRandom.Next(workload.Samples.Count)], tag: false)).ToArray();

var rows = new List<string>();
foreach (var name in engines.Split(','))
{
    var dir = Path.Combine(directory, name);
    Directory.CreateDirectory(dir);
    GC.Collect();
    GC.WaitForPendingFinalizers();
    double writeSeconds, writeCpuSeconds;
    (double P50, double P99) lookup, tagSearch, serviceSearch;
    long spansRead = 0;
    ulong tagHash = 0, serviceHash = 0;
    var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
    using (IEngine engine = name switch
    {
        "sqlite" => new SqliteEngine(dir),
        "duckdb" => new DuckDbEngine(dir, traceIndex: false, duckThreads),
        "duckdb-art" => new DuckDbEngine(dir, traceIndex: true, duckThreads),
        _ => throw new ArgumentException($"unknown engine {name}"),
    })
    {
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        foreach (var batch in workload.Batches)
        {
            engine.Write(batch);
        }

        engine.Checkpoint();
        writeSeconds = stopwatch.Elapsed.TotalSeconds;
        writeCpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        Console.Error.WriteLine($"{engine.Name}: wrote {workload.Spans} spans in {writeSeconds:F1} s");

        for (var i = 0; i < Warmup; i++)
        {
            engine.Lookup(lookupIds[i]);
            engine.Find(tagQueries[i % Searches]);
        }

        lookup = Measure(lookupIds, id => spansRead += engine.Lookup(id));
        tagSearch = Measure(tagQueries, q => tagHash = Fold(tagHash, engine.Find(q)));
        serviceSearch = Measure(serviceQueries, q => serviceHash = Fold(serviceHash, engine.Find(q)));
        Console.Error.WriteLine($"{engine.Name}: lookups read {spansRead} spans; results hash tag {tagHash:x16}, service {serviceHash:x16}");
        rows.Add($"| {engine.Name} | {workload.Spans / writeSeconds:N0} | {writeSeconds:F1} | {writeCpuSeconds:F1} | {{SIZE}} | {lookup.P50:F2} / {lookup.P99:F2} | "
            + $"{tagSearch.P50:F2} / {tagSearch.P99:F2} | {serviceSearch.P50:F2} / {serviceSearch.P99:F2} | {spansRead:N0} | {(uint)tagHash:x8}·{(uint)serviceHash:x8} | {load} |");
    }

    var bytes = new DirectoryInfo(dir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
    rows[^1] = rows[^1].Replace("{SIZE}", (bytes / 1_000_000.0).ToString("F1", CultureInfo.InvariantCulture), StringComparison.Ordinal);
    Directory.Delete(dir, recursive: true);
}

Console.WriteLine($"{workload.Spans:N0} spans in {workload.TraceIds.Count:N0} traces (seed {seed}), batches of {Workload.BatchSpans}; "
    + $"lookups of {Lookups} random known trace ids, {Searches} searches of each kind over a 1 h window, limit 20, after {Warmup} warm-up queries. Times in ms; write CPU s: the process's CPU time (every thread) during the writes.");
Console.WriteLine();
Console.WriteLine("| engine | write spans/s | write s | write CPU s | on disk, MB | trace lookup p50 / p99 | tag search p50 / p99 | service+time search p50 / p99 | spans read by lookups | results hash (tag·service) | load at start |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
foreach (var row in rows)
{
    Console.WriteLine(row);
}

try
{
    Directory.Delete(directory);
}
catch (IOException)
{
}

return 0;

static (double P50, double P99) Measure<T>(IReadOnlyList<T> probes, Action<T> run)
{
    var ms = new double[probes.Count];
    for (var i = 0; i < probes.Count; i++)
    {
        var start = Stopwatch.GetTimestamp();
        run(probes[i]);
        ms[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    Array.Sort(ms);
    return (Percentile(ms, 0.50), Percentile(ms, 0.99));
}

static double Percentile(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

static ulong Fold(ulong hash, IReadOnlyList<byte[]> ids)
{
    foreach (var id in ids)
    {
        hash = XxHash64.HashToUInt64(id, (long)hash);
    }

    return hash;
}
