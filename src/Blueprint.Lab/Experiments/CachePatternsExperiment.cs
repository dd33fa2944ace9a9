using Blueprint.Cache.Patterns;

namespace Blueprint.Lab.Experiments;

/// <summary>
/// The four caching patterns of Blueprint.Cache measured on real engines: a <c>blueprint run --modules kv</c> node for
/// the RESP cache and a SQLite file (WAL, <c>synchronous=FULL</c>) for the database, the patterns running in this
/// process. A seeded Zipf workload gives each pattern's database load, hit ratio and write latency; a writer and a
/// second reader give the staleness after an acknowledged write and after a change behind the cache's back; a
/// stampede of readers on cold keys shows read-through's single flight. Last, a <c>kv,sql,cache</c> node is driven
/// over its write-behind endpoint and killed with SIGKILL, and its table is compared with what it acknowledged.
/// </summary>
public sealed partial class CachePatternsExperiment : AsyncExperiment
{
    private const string ExperimentName = "cache-patterns";

    /// <summary>Added to time bounds for the polling and the machine's noise.</summary>
    private const double ToleranceMs = 250;

    private static readonly string[] PatternNames = ["cache-aside", "read-through", "write-through", "write-behind"];

    /// <summary>The TTL of the workload: longer than the run, so that misses come from writes and cold keys, not expiry.</summary>
    private static readonly TimeSpan WorkloadTtl = TimeSpan.FromMinutes(10);

    /// <summary>The write-behind of the in-process runs.</summary>
    private static readonly WriteBehindOptions WriteBehindOptions = new()
    {
        QueueCapacity = 10_000,
        BatchSizeMax = 100,
        FlushDelayMax = TimeSpan.FromMilliseconds(100),
    };

    /// <inheritdoc/>
    public override string Name => ExperimentName;

    /// <inheritdoc/>
    public override string Description => "Cache-aside, read-through, write-through and write-behind on a real RESP engine and SQLite: database load, write latency, staleness, single flight, and what write-behind loses when its node is killed.";

    /// <inheritdoc/>
    protected override async Task<ExperimentResult> RunAsync(ExperimentOptions options, IProgress<double> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        Sizes sizes = options.Quick ? Sizes.Quick : Sizes.Full;
        ProgressSteps steps = new(progress, (PatternNames.Length * 2) + 3);
        List<WorkloadRun> workloads = [];
        List<AckStaleness> afterAck = [];
        double[] behindTheBackMs;
        double cacheAsidePerStampede, readThroughPerStampede;
        await using (Backends backends = await Backends.StartAsync(options.Environment).ConfigureAwait(false))
        {
            foreach (string name in PatternNames)
            {
                DbRecordStore store = await backends.NewStoreAsync().ConfigureAwait(false);
                ICachingPattern<string, string> pattern = Create(name, Cache(backends, $"load:{name}"), store, WorkloadTtl);
                workloads.Add(await RunWorkloadAsync(pattern, store, sizes, options.Seed).ConfigureAwait(false));
                await DisposeAsync(pattern).ConfigureAwait(false);
                steps.Step();
            }

            foreach (string name in PatternNames)
            {
                DbRecordStore store = await backends.NewStoreAsync().ConfigureAwait(false);
                ICachingPattern<string, string> writer = Create(name, Cache(backends, $"ack:{name}"), store, WorkloadTtl);
                ICachingPattern<string, string> reader = Create(name, Cache(backends, $"ack:{name}"), store, WorkloadTtl);
                afterAck.Add(await AfterAckAsync(writer, reader, store, sizes.AckTrials).ConfigureAwait(false));
                await DisposeAsync(writer).ConfigureAwait(false);
                await DisposeAsync(reader).ConfigureAwait(false);
                steps.Step();
            }

            // Each waits about a TTL: the four run side by side, each on its own keys and table.
            ICachingPattern<string, string>[] readers = new ICachingPattern<string, string>[PatternNames.Length];
            DbRecordStore[] stores = new DbRecordStore[PatternNames.Length];
            for (int i = 0; i < PatternNames.Length; i++)
            {
                stores[i] = await backends.NewStoreAsync().ConfigureAwait(false);
                readers[i] = Create(PatternNames[i], Cache(backends, $"back:{PatternNames[i]}"), stores[i], sizes.StalenessTtl);
            }

            behindTheBackMs = await Task.WhenAll(readers.Select((reader, i) => BehindTheBackAsync(reader, stores[i]))).ConfigureAwait(false);
            foreach (ICachingPattern<string, string> reader in readers)
            {
                await DisposeAsync(reader).ConfigureAwait(false);
            }

            steps.Step();
            cacheAsidePerStampede = await StampedeOfAsync("cache-aside", backends, sizes).ConfigureAwait(false);
            readThroughPerStampede = await StampedeOfAsync("read-through", backends, sizes).ConfigureAwait(false);
            steps.Step();
        }

        CrashRun crash = await CrashAsync(options, sizes.CrashWrites).ConfigureAwait(false);
        steps.Step();
        return Report(sizes, workloads, afterAck, behindTheBackMs, cacheAsidePerStampede, readThroughPerStampede, crash);
    }

    private static ICachingPattern<string, string> Create(string name, IPatternCache<string, string> cache, DbRecordStore store, TimeSpan ttl) => name switch
    {
        "cache-aside" => new CacheAside<string, string>(cache, store, ttl),
        "read-through" => new ReadThrough<string, string>(cache, store, ttl),
        "write-through" => new WriteThrough<string, string>(cache, store, ttl),
        _ => new WriteBehind<string, string>(cache, store, ttl, WriteBehindOptions, TimeProvider.System),
    };

    private static RespPatternCache Cache(Backends backends, string phase) => new(backends.Database, $"lab:{phase}:");

    private static async Task<double> StampedeOfAsync(string name, Backends backends, Sizes sizes)
    {
        DbRecordStore store = await backends.NewStoreAsync().ConfigureAwait(false);
        ICachingPattern<string, string> pattern = Create(name, Cache(backends, $"stampede:{name}"), store, WorkloadTtl);
        double perStampede = await StampedeAsync(pattern, store, sizes).ConfigureAwait(false);
        await DisposeAsync(pattern).ConfigureAwait(false);
        return perStampede;
    }

    private static async Task DisposeAsync(ICachingPattern<string, string> pattern)
    {
        switch (pattern)
        {
            case IAsyncDisposable asynchronous:
                await asynchronous.DisposeAsync().ConfigureAwait(false);
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
            default:
                break;
        }
    }

    private sealed record Sizes(int Keys, int Operations, int Stampedes, int StampedeReaders, int AckTrials, TimeSpan StalenessTtl, int CrashWrites)
    {
        public static Sizes Full { get; } = new(10_000, 40_000, 20, 64, 100, TimeSpan.FromSeconds(2), 2_500);

        public static Sizes Quick { get; } = new(1_000, 4_000, 3, 32, 10, TimeSpan.FromSeconds(1), 250);
    }
}
