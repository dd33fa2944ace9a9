using System.Diagnostics;

using Blueprint.Cache;
using Blueprint.Lab.Experiments.Messaging;
using Blueprint.Lab.Processes;

using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Time.Testing;

using StackExchange.Redis;

namespace Blueprint.Lab.Experiments;

/// <summary>
/// Local (near) cache vs distributed cache, on a real Blueprint node (kv module, embedded Garnet) driven over RESP
/// by <see cref="BlueprintCache"/>: the latency of a near hit against a network GET, the near hit ratio as the near
/// TTL and size vary under a skewed (Zipf) load, and coherence: how long a second instance serves the old value after
/// a write, with invalidations delivered and with every invalidation dropped (then reconciliation bounds it).
/// </summary>
public sealed class LocalVsDistributedCacheExperiment : AsyncExperiment
{
    private const string ExperimentName = "local-vs-distributed-cache";

    /// <summary>The goal the project sets: a near hit at least this many times quicker than a network GET (p50).</summary>
    private const double NearSpeedupGoal = 100;

    /// <summary>The Zipf exponent of the hit-ratio load: a few keys are hot, most are cold.</summary>
    private const double ZipfExponent = 1.0;

    /// <summary>Virtual time between two requests of the hit-ratio load (1,000 requests per second).</summary>
    private static readonly TimeSpan RequestInterval = TimeSpan.FromMilliseconds(1);

    /// <summary>The reconciliation interval R of the coherence runs: short, so the run is.</summary>
    private static readonly TimeSpan Reconciliation = TimeSpan.FromMilliseconds(200);

    /// <summary>What the bound allows past R for the round trip and the scheduling of a loaded machine.</summary>
    private static readonly TimeSpan BoundSlack = TimeSpan.FromMilliseconds(100);

    /// <summary>How long the reader polls back to back after a write before it polls every millisecond.</summary>
    private static readonly TimeSpan SpinWindow = TimeSpan.FromMilliseconds(5);

    /// <summary>How long one write may stay unseen before the run is abandoned.</summary>
    private static readonly TimeSpan StalenessDeadline = TimeSpan.FromSeconds(10);

    /// <inheritdoc/>
    public override string Name => ExperimentName;

    /// <inheritdoc/>
    public override string Description => "On the Blueprint kv over RESP: a near-cache hit against a network GET, the hit ratio as near TTL and size vary, and how long a write stays unseen elsewhere with invalidations delivered and dropped (bounded by reconciliation).";

    /// <inheritdoc/>
    protected override async Task<ExperimentResult> RunAsync(ExperimentOptions options, IProgress<double> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        Sizes sizes = options.Quick ? Sizes.Quick : Sizes.Full;
        using KvNodeProcess node = await KvNodeProcess.StartAsync(options.Environment, CancellationToken.None).ConfigureAwait(false);
        ProgressSteps steps = new(progress, 3 + (sizes.NearEntries.Length * sizes.NearTtlsSeconds.Length));
        await using Clients clients = new(node.Endpoint);

        Latency latency = await MeasureLatencyAsync(clients, sizes).ConfigureAwait(false);
        steps.Step();

        List<HitRatioRow> hitRatios = [];
        foreach (int entries in sizes.NearEntries)
        {
            foreach (double ttlSeconds in sizes.NearTtlsSeconds)
            {
                hitRatios.Add(await MeasureHitRatioAsync(clients, sizes, options.Seed, entries, ttlSeconds).ConfigureAwait(false));
                steps.Step();
            }
        }

        Staleness delivered = await MeasureStalenessAsync(clients, sizes.Writes, dropInvalidations: false).ConfigureAwait(false);
        steps.Step();
        Staleness dropped = await MeasureStalenessAsync(clients, sizes.Writes, dropInvalidations: true).ConfigureAwait(false);
        steps.Step();
        return Report(sizes, latency, hitRatios, delivered, dropped);
    }

    private static async Task<Latency> MeasureLatencyAsync(Clients clients, Sizes sizes)
    {
        IDatabase database = (await clients.ConnectAsync().ConfigureAwait(false)).GetDatabase();
        await database.StringSetAsync("lab:get", new string('x', 64)).ConfigureAwait(false);
        List<double> getUs = new(sizes.NetworkReads);
        for (int i = 0; i < sizes.NetworkReads; i++)
        {
            long started = Stopwatch.GetTimestamp();
            _ = await database.StringGetAsync("lab:get").ConfigureAwait(false);
            getUs.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        }

        BlueprintCache near = await clients.CacheAsync(TimeProvider.System, "lab-latency", configure: null).ConfigureAwait(false);
        BlueprintCache distributedOnly = await clients.CacheAsync(TimeProvider.System, "lab-latency", options => options.NearCacheEnabled = false).ConfigureAwait(false);
        Product product = new(1, "lab", 9.99m);
        await near.SetAsync("product:1", product).ConfigureAwait(false);
        List<double> distributedUs = new(sizes.NetworkReads);
        for (int i = 0; i < sizes.NetworkReads; i++)
        {
            long started = Stopwatch.GetTimestamp();
            _ = await distributedOnly.GetOrCreateAsync("product:1", Unexpected).ConfigureAwait(false);
            distributedUs.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        }

        _ = await near.GetOrCreateAsync("product:1", Unexpected).ConfigureAwait(false);
        List<double> nearUs = new(sizes.NearReads);
        for (int i = 0; i < sizes.NearReads; i++)
        {
            long started = Stopwatch.GetTimestamp();
            _ = await near.GetOrCreateAsync("product:1", Unexpected).ConfigureAwait(false);
            nearUs.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        }

        return new Latency(Summary.Of(getUs), Summary.Of(distributedUs), Summary.Of(nearUs), near.Statistics.Hits);
    }

    private static async Task<HitRatioRow> MeasureHitRatioAsync(Clients clients, Sizes sizes, int seed, int entries, double ttlSeconds)
    {
        // Virtual time: each request moves the clock by RequestInterval, so the TTL is measured in requests, not in
        // how fast this machine happens to be.
        FakeTimeProvider time = new();
        BlueprintCache cache = await clients.CacheAsync(time, $"lab-hits-{entries}-{ttlSeconds}", options =>
        {
            options.NearEntriesMax = entries;
            options.NearTtl = TimeSpan.FromSeconds(ttlSeconds);
            options.ReconciliationInterval = TimeSpan.FromHours(1);
        }).ConfigureAwait(false);
        Zipf zipf = new(sizes.Keys, ZipfExponent, new Random(seed));
        for (int i = 0; i < sizes.Requests; i++)
        {
            int key = zipf.Next();
            _ = await cache.GetOrCreateAsync($"item:{key}", key, static (k, _) => ValueTask.FromResult(k)).ConfigureAwait(false);
            time.Advance(RequestInterval);
        }

        NearCacheStatistics statistics = cache.Statistics;
        return new HitRatioRow(entries, ttlSeconds, statistics.Hits / (double)(statistics.Hits + statistics.Misses));
    }

    /// <summary>
    /// A writes a new version; B, which held the old one near, reads in a loop until it sees the new one. The time
    /// from A's write returning to B's first fresh read is the staleness window.
    /// </summary>
    private static async Task<Staleness> MeasureStalenessAsync(Clients clients, int writes, bool dropInvalidations)
    {
        string prefix = dropInvalidations ? "lab-stale-dropped" : "lab-stale-delivered";
        static void Configure(BlueprintCacheOptions options) => options.ReconciliationInterval = Reconciliation;
        BlueprintCache writer = await clients.CacheAsync(TimeProvider.System, prefix, Configure).ConfigureAwait(false);
        BlueprintCache reader = await clients.CacheAsync(TimeProvider.System, prefix, Configure).ConfigureAwait(false);
        reader.DropIncomingInvalidations = dropInvalidations;
        HybridCacheEntryOptions readOnly = new() { Flags = HybridCacheEntryFlags.DisableDistributedCacheWrite };
        List<double> windowsMs = new(writes);
        int staleReads = 0;
        await writer.SetAsync("stock", 0).ConfigureAwait(false);
        for (int version = 1; version <= writes; version++)
        {
            await HoldNearCopyAsync(reader, version - 1, readOnly).ConfigureAwait(false);
            await writer.SetAsync("stock", version).ConfigureAwait(false);
            long written = Stopwatch.GetTimestamp();
            while (await reader.GetOrCreateAsync("stock", static _ => ValueTask.FromResult(-1), readOnly).ConfigureAwait(false) != version)
            {
                staleReads++;
                if (Stopwatch.GetElapsedTime(written) > StalenessDeadline)
                {
                    throw new TimeoutException($"the reader still served version {version - 1} {StalenessDeadline.TotalSeconds} s after the write");
                }

                // Polls back to back while a delivered invalidation is expected, then every millisecond, so a window
                // of hundreds of milliseconds does not hold a core the machine's other work needs.
                if (Stopwatch.GetElapsedTime(written) < SpinWindow)
                {
                    await Task.Yield();
                }
                else
                {
                    await Task.Delay(1).ConfigureAwait(false);
                }
            }

            windowsMs.Add(Stopwatch.GetElapsedTime(written).TotalMilliseconds);
        }

        NearCacheStatistics statistics = reader.Statistics;
        return new Staleness(Summary.Of(windowsMs), windowsMs.Max(), staleReads, statistics.GapsFound, statistics.InvalidationsDropped);
    }

    /// <summary>Reads until the reader serves <paramref name="version"/> from its near cache (the read is a hit).</summary>
    private static async Task HoldNearCopyAsync(BlueprintCache reader, int version, HybridCacheEntryOptions readOnly)
    {
        long started = Stopwatch.GetTimestamp();
        while (true)
        {
            long hits = reader.Statistics.Hits;
            int read = await reader.GetOrCreateAsync("stock", static _ => ValueTask.FromResult(-1), readOnly).ConfigureAwait(false);
            if (read == version && reader.Statistics.Hits == hits + 1)
            {
                return;
            }

            if (Stopwatch.GetElapsedTime(started) > StalenessDeadline)
            {
                throw new TimeoutException($"the reader did not hold version {version} near within {StalenessDeadline.TotalSeconds} s (read {read})");
            }

            await Task.Yield();
        }
    }

    private static ValueTask<Product> Unexpected(CancellationToken cancellationToken) =>
        throw new InvalidOperationException("the entry was written before the reads; the factory must not run");

    private static ExperimentResult Report(Sizes sizes, Latency latency, List<HitRatioRow> hitRatios, Staleness delivered, Staleness dropped)
    {
        double speedup = latency.Get.P50 / latency.Near.P50;
        double boundMs = (Reconciliation + BoundSlack).TotalMilliseconds;
        bool ttlHelps = sizes.NearEntries.All(entries => NonDecreasing(hitRatios.Where(row => row.Entries == entries).Select(row => row.HitRatio)));
        bool sizeHelps = sizes.NearTtlsSeconds.All(ttl => NonDecreasing(hitRatios.Where(row => row.TtlSeconds == ttl).Select(row => row.HitRatio)));
        Claim[] claims =
        [
            new("near-hit-100x", $"A near-cache hit is at least {NearSpeedupGoal:0}× quicker than a network GET.",
                $"p50(GET) / p50(near hit) ≥ {NearSpeedupGoal:0}",
                $"GET p50 {Fmt.Num(latency.Get.P50, 1)} µs, near hit p50 {Fmt.Num(latency.Near.P50, 3)} µs: {Fmt.Num(speedup, 0)}×",
                speedup >= NearSpeedupGoal),
            new("ttl-raises-hit-ratio", "A longer near TTL keeps more hot keys near: the hit ratio does not fall as the TTL grows.",
                "hit ratio non-decreasing in TTL at each size", string.Join("; ", sizes.NearEntries.Select(entries =>
                    $"{Fmt.Int(entries)} entries: " + string.Join(" → ", hitRatios.Where(row => row.Entries == entries).Select(row => Fmt.Pct(row.HitRatio, 1))))),
                ttlHelps),
            new("size-raises-hit-ratio", "A larger near cache holds more of the Zipf tail: the hit ratio does not fall as the size grows.",
                "hit ratio non-decreasing in size at each TTL", string.Join("; ", sizes.NearTtlsSeconds.Select(ttl =>
                    $"TTL {Fmt.Num(ttl, 1)} s: " + string.Join(" → ", hitRatios.Where(row => row.TtlSeconds == ttl).Select(row => Fmt.Pct(row.HitRatio, 1))))),
                sizeHelps),
            new("invalidation-is-prompt", "With invalidations delivered, another instance stops serving the old value within a message delivery, long before reconciliation.",
                $"max window < R = {Fmt.Num(Reconciliation.TotalMilliseconds, 0)} ms",
                $"p50 {Fmt.Num(delivered.Window.P50, 2)} ms, max {Fmt.Num(delivered.MaxMs, 2)} ms over {sizes.Writes} writes",
                delivered.MaxMs < Reconciliation.TotalMilliseconds),
            new("lost-invalidation-is-bounded", "With every invalidation lost, reconciliation still ends the stale window within R plus a round trip.",
                $"max window ≤ R + {Fmt.Num(BoundSlack.TotalMilliseconds, 0)} ms = {Fmt.Num(boundMs, 0)} ms, and one gap found per write",
                $"p50 {Fmt.Num(dropped.Window.P50, 1)} ms, max {Fmt.Num(dropped.MaxMs, 1)} ms; {dropped.Gaps} gaps found for {dropped.Dropped} dropped invalidations",
                dropped.MaxMs <= boundMs && dropped.Gaps >= sizes.Writes),
        ];
        ResultTable latencyTable = new("Read latency, one client, sequential reads of one 64-byte value",
            ["read", "reads", "p50", "p99"],
        [
            ["network GET (StackExchange.Redis)", Fmt.Int(latency.Get.Count), $"{Fmt.Num(latency.Get.P50, 1)} µs", $"{Fmt.Num(latency.Get.P99, 1)} µs"],
            ["distributed hit (HybridCache, near off)", Fmt.Int(latency.Distributed.Count), $"{Fmt.Num(latency.Distributed.P50, 1)} µs", $"{Fmt.Num(latency.Distributed.P99, 1)} µs"],
            ["near hit (BlueprintCache)", Fmt.Int(latency.Near.Count), $"{Fmt.Num(latency.Near.P50, 3)} µs", $"{Fmt.Num(latency.Near.P99, 3)} µs"],
        ]);
        ResultTable hitTable = new($"Near hit ratio, Zipf({Fmt.Num(ZipfExponent, 1)}) over {Fmt.Int(sizes.Keys)} keys, {Fmt.Int(sizes.Requests)} requests at 1,000/s (virtual time)",
            ["near entries", "near TTL", "hit ratio"],
            [.. hitRatios.Select(row => (IReadOnlyList<string>)[Fmt.Int(row.Entries), $"{Fmt.Num(row.TtlSeconds, 1)} s", Fmt.Pct(row.HitRatio, 1)])]);
        ResultTable stalenessTable = new($"Staleness window after a write, reconciliation every {Fmt.Num(Reconciliation.TotalMilliseconds, 0)} ms",
            ["invalidations", "writes", "p50", "p99", "max", "stale reads", "gaps found"],
        [
            ["delivered", Fmt.Int(delivered.Window.Count), $"{Fmt.Num(delivered.Window.P50, 2)} ms", $"{Fmt.Num(delivered.Window.P99, 2)} ms", $"{Fmt.Num(delivered.MaxMs, 2)} ms", Fmt.Int(delivered.StaleReads), Fmt.Int(delivered.Gaps)],
            ["all dropped", Fmt.Int(dropped.Window.Count), $"{Fmt.Num(dropped.Window.P50, 1)} ms", $"{Fmt.Num(dropped.Window.P99, 1)} ms", $"{Fmt.Num(dropped.MaxMs, 1)} ms", Fmt.Int(dropped.StaleReads), Fmt.Int(dropped.Gaps)],
        ]);
        PlotSpec plot = new("Near hit ratio vs near TTL, Zipf load", "near TTL (s)", "hit ratio (%)",
        [
            .. sizes.NearEntries.Select(entries => new PlotSeries($"{Fmt.Int(entries)} near entries",
                [.. hitRatios.Where(row => row.Entries == entries).Select(row => row.TtlSeconds)],
                [.. hitRatios.Where(row => row.Entries == entries).Select(row => row.HitRatio * 100)],
                Markers: true)),
        ]);
        return new ExperimentResult(ExperimentName,
            $"A Blueprint node (kv module, embedded Garnet, no persistence) on loopback; BlueprintCache instances each with their own StackExchange.Redis multiplexer. Near hits ran {Fmt.Int(latency.NearHits)} times from one instance's near cache. The near cache is kept coherent by pub/sub invalidations and a reconciliation of partition sequences every R.",
            claims, [latencyTable, hitTable, stalenessTable], plot);
    }

    private static bool NonDecreasing(IEnumerable<double> values)
    {
        double previous = double.NegativeInfinity;
        foreach (double value in values)
        {
            if (value < previous)
            {
                return false;
            }

            previous = value;
        }

        return true;
    }

    private sealed record Sizes(int NetworkReads, int NearReads, int Keys, int Requests, int[] NearEntries, double[] NearTtlsSeconds, int Writes)
    {
        public static Sizes Full { get; } = new(20_000, 1_000_000, 10_000, 20_000, [100, 1_000, 10_000], [0.1, 1, 10, 60], 40);

        public static Sizes Quick { get; } = new(2_000, 100_000, 2_000, 4_000, [100, 1_000], [0.1, 1, 10], 8);
    }

    private sealed record Product(int Id, string Name, decimal Price);

    private sealed record Summary(int Count, double P50, double P99)
    {
        public static Summary Of(List<double> values) => new(values.Count, Pacing.Percentile(values, 0.50), Pacing.Percentile(values, 0.99));
    }

    private sealed record Latency(Summary Get, Summary Distributed, Summary Near, long NearHits);

    private sealed record HitRatioRow(int Entries, double TtlSeconds, double HitRatio);

    private sealed record Staleness(Summary Window, double MaxMs, int StaleReads, long Gaps, long Dropped);

    /// <summary>Key ranks 0…n−1 drawn with probability ∝ 1/(rank+1)^s, by inverse transform over the cumulative weights.</summary>
    private sealed class Zipf
    {
        private readonly double[] _cumulative;
        private readonly Random _random;

        public Zipf(int keys, double exponent, Random random)
        {
            _cumulative = new double[keys];
            double total = 0;
            for (int rank = 0; rank < keys; rank++)
            {
                total += 1 / Math.Pow(rank + 1, exponent);
                _cumulative[rank] = total;
            }

            _random = random;
        }

        public int Next()
        {
            int index = Array.BinarySearch(_cumulative, _random.NextDouble() * _cumulative[^1]);
            return Math.Min(index < 0 ? ~index : index, _cumulative.Length - 1);
        }
    }

    /// <summary>The multiplexers and caches of one run, each cache on a multiplexer of its own, closed at the end.</summary>
    private sealed class Clients(string endpoint) : IAsyncDisposable
    {
        private readonly List<BlueprintCache> _caches = [];
        private readonly List<ConnectionMultiplexer> _connections = [];

        public async Task<ConnectionMultiplexer> ConnectAsync()
        {
            ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
            {
                EndPoints = { endpoint },
                ConnectTimeout = 5_000,
                AsyncTimeout = 5_000,
                SyncTimeout = 5_000,
            }).ConfigureAwait(false);
            _connections.Add(connection);
            return connection;
        }

        public async Task<BlueprintCache> CacheAsync(TimeProvider time, string prefix, Action<BlueprintCacheOptions>? configure)
        {
            IConnectionMultiplexer connection = await ConnectAsync().ConfigureAwait(false);
            BlueprintCacheOptions options = new() { Prefix = prefix };
            configure?.Invoke(options);
            BlueprintCache cache = new(_ => ValueTask.FromResult(connection), options, time);
            _caches.Add(cache);
            if (options.NearCacheEnabled)
            {
                await cache.WhenNearActiveAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            }

            return cache;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (BlueprintCache cache in _caches)
            {
                await cache.DisposeAsync().ConfigureAwait(false);
            }

            foreach (ConnectionMultiplexer connection in _connections)
            {
                await connection.CloseAsync().ConfigureAwait(false);
                connection.Dispose();
            }
        }
    }
}
