using System.Diagnostics;
using System.Globalization;
using Blueprint.Core.RateLimiting.Stores;
using Blueprint.Kv;
using Blueprint.RateLimit.Store;
using StackExchange.Redis;

namespace Blueprint.Benchmarks.RateLimit;

/// <summary>
/// Closed-loop load against a KV that runs the rate-limit scripts (a node's embedded KV, or any Redis):
/// N concurrent callers, each awaiting one decision at a time on random keys from a fixed pool, with a
/// limit so high that nothing is denied. Variants:
/// <list type="bullet">
/// <item><c>store-token-bucket</c>, <c>store-gcra</c>: Blueprint's client, <see cref="KvRateLimitStore.DecideAsync(string, LimitSpec, int, CancellationToken)"/>.</item>
/// <item><c>raw-token-bucket</c>, <c>raw-gcra</c>: the same script by EVALSHA straight through StackExchange.Redis, keys and
/// arguments prepared once: the cost of one round trip per decision and nothing else.</item>
/// </list>
/// Rounds alternate the variants so they see the same background load; each line printed is one
/// variant at one concurrency, the round with the median throughput:
/// <c>result VARIANT CONCURRENCY DECISIONS_PER_S P50_US P99_US DENIED ERRORS</c>.
/// </summary>
internal static class RateLimitLoad
{
    /// <summary>Latency samples kept per run, shared among the callers; decisions beyond it are counted, not timed.</summary>
    public const int LatencySamplesMax = 1 << 20;

    private const string Usage =
        "usage: Blueprint.Benchmarks ratelimit --endpoint HOST:PORT [--seconds 3] [--warmup-seconds 0.5] [--rounds 3]\n" +
        "         [--concurrency 16,64] [--keys 10000] [--variants store-token-bucket,raw-token-bucket,store-gcra,raw-gcra]";

    private const string AllVariants = "store-token-bucket,raw-token-bucket,store-gcra,raw-gcra";

    // So high that nothing is denied: one permit per microsecond, a burst of a million.
    private const long RequestsPerSecond = 1_000_000;

    private const long TtlMarginMilliseconds = 1_000;

    // Before the rounds, each variant runs this long unmeasured so the JIT reaches its optimized tier.
    private static readonly TimeSpan VariantWarmup = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(string[] args)
    {
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (FormatException e)
        {
            await Console.Error.WriteLineAsync(e.Message + "\n" + Usage);
            return 2;
        }

        var configuration = new ConfigurationOptions
        {
            EndPoints = { options.Endpoint },
            AbortOnConnectFail = false,
            ConnectTimeout = 5_000,
            SyncTimeout = 5_000,
            AsyncTimeout = 5_000,
            ClientName = "blueprint-bench",
        };
        await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration);
        var database = multiplexer.GetDatabase();
        var store = new KvRateLimitStore(new FixedKvConnection(multiplexer, options.Endpoint));

        var variants = new Dictionary<string, Variant>(StringComparer.Ordinal);
        foreach (var name in options.Variants)
        {
            variants[name] = await CreateVariantAsync(name, store, database, options.Keys);
        }

        // JIT and connection warm-up for every variant, not measured.
        foreach (var variant in variants.Values)
        {
            await RunOnceAsync(variant, options.Concurrency[^1], VariantWarmup, TimeSpan.Zero);
        }

        foreach (var concurrency in options.Concurrency)
        {
            var runs = variants.Keys.ToDictionary(name => name, _ => new List<RunResult>(), StringComparer.Ordinal);
            for (var round = 0; round < options.Rounds; round++)
            {
                foreach (var (name, variant) in variants)
                {
                    runs[name].Add(await RunOnceAsync(variant, concurrency, options.Warmup, options.Duration));
                }
            }

            foreach (var (name, results) in runs)
            {
                var median = results.OrderBy(run => run.DecisionsPerSecond).ElementAt(results.Count / 2);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"result {name} {concurrency} {median.DecisionsPerSecond:F0} {median.P50Microseconds:F0} {median.P99Microseconds:F0} {results.Sum(r => r.Denied)} {results.Sum(r => r.Errors)}"));
            }
        }

        return 0;
    }

    private static async Task<Variant> CreateVariantAsync(string name, KvRateLimitStore store, IDatabase database, int keyCount)
    {
        var algorithm = name.EndsWith("gcra", StringComparison.Ordinal) ? RateLimitAlgorithm.Gcra : RateLimitAlgorithm.TokenBucket;
        var limit = new LimitSpec(algorithm, RequestsPerSecond, TimeSpan.FromSeconds(1));
        var tag = algorithm == RateLimitAlgorithm.Gcra ? "gcra" : "tb";
        if (name.StartsWith("store-", StringComparison.Ordinal))
        {
            var keys = Enumerable.Range(0, keyCount).Select(i => string.Create(CultureInfo.InvariantCulture, $"bench:store:{tag}:{i}")).ToArray();
            return async random =>
            {
                var outcome = await store.DecideAsync(keys[random.Next(keys.Length)], limit, 1);
                return outcome.Allowed;
            };
        }

        if (name.StartsWith("raw-", StringComparison.Ordinal))
        {
            var hash = await LoadScriptAsync(database, algorithm);
            var keys = Enumerable.Range(0, keyCount)
                .Select(i => new RedisKey[] { string.Create(CultureInfo.InvariantCulture, $"{KvRateLimitStore.DefaultKeyPrefix}bench:raw:{tag}:{i}") })
                .ToArray();
            // The store's arguments: server clock, hits, permits, microseconds per permit, TTL margin.
            RedisValue[] arguments = [RedisValue.EmptyString, 1, limit.EffectiveBurstPermits, limit.MicrosecondsPerPermit, TtlMarginMilliseconds];
            return async random =>
            {
                var reply = await database.ScriptEvaluateAsync(hash, keys[random.Next(keys.Length)], arguments);
                return (long)reply[0] == 1;
            };
        }

        throw new FormatException($"unknown variant '{name}'; known: {AllVariants}");
    }

    private static async Task<byte[]> LoadScriptAsync(IDatabase database, RateLimitAlgorithm algorithm)
    {
        var text = KvRateLimitStore.ScriptText(algorithm);
        var reply = await database.ExecuteAsync("SCRIPT", "LOAD", text);
        return Convert.FromHexString((string)reply!);
    }

    private static async Task<RunResult> RunOnceAsync(Variant variant, int concurrency, TimeSpan warmup, TimeSpan duration)
    {
        var state = new RunState(concurrency);
        var callers = new Task[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            var index = i;
            callers[i] = Task.Run(() => CallAsync(variant, state, index));
        }

        await Task.Delay(warmup);
        var started = Stopwatch.GetTimestamp();
        Volatile.Write(ref state.Phase, RunState.Measuring);
        if (duration > TimeSpan.Zero)
        {
            await Task.Delay(duration);
        }

        Volatile.Write(ref state.Phase, RunState.Stopped);
        var elapsed = Stopwatch.GetElapsedTime(started);
        await Task.WhenAll(callers);

        long decisions = 0, denied = 0, errors = 0, sampled = 0;
        for (var i = 0; i < concurrency; i++)
        {
            decisions += state.Decisions[i];
            denied += state.Denied[i];
            errors += state.Errors[i];
            sampled += state.SampleCounts[i];
        }

        var all = new long[sampled];
        var offset = 0;
        for (var i = 0; i < concurrency; i++)
        {
            Array.Copy(state.Samples[i], 0, all, offset, state.SampleCounts[i]);
            offset += state.SampleCounts[i];
        }

        Array.Sort(all);
        return new RunResult(
            elapsed.TotalSeconds > 0 ? decisions / elapsed.TotalSeconds : 0,
            Percentile(all, 0.50),
            Percentile(all, 0.99),
            denied,
            errors);
    }

    private static async Task CallAsync(Variant variant, RunState state, int index)
    {
        var random = new Random(index + 1);
        var samples = state.Samples[index];
        long decisions = 0, denied = 0, errors = 0;
        var count = 0;
        while (true)
        {
            var phase = Volatile.Read(ref state.Phase);
            if (phase == RunState.Stopped)
            {
                break;
            }

            var started = Stopwatch.GetTimestamp();
            bool allowed;
            try
            {
                allowed = await variant(random);
            }
            catch (RedisException)
            {
                errors++;
                continue;
            }
            catch (TimeoutException)
            {
                errors++;
                continue;
            }

            var ended = Stopwatch.GetTimestamp();
            // Counted when the call began in the measured phase and ended before the stop.
            if (phase == RunState.Measuring && Volatile.Read(ref state.Phase) == RunState.Measuring)
            {
                decisions++;
                if (!allowed)
                {
                    denied++;
                }

                if (count < samples.Length)
                {
                    samples[count++] = ended - started;
                }
            }
        }

        state.Decisions[index] = decisions;
        state.Denied[index] = denied;
        state.Errors[index] = errors;
        state.SampleCounts[index] = count;
    }

    private static double Percentile(long[] sorted, double quantile)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(quantile * sorted.Length) - 1;
        var ticks = sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
        return ticks * 1_000_000.0 / Stopwatch.Frequency;
    }

    /// <summary>One decision on a random key; true when allowed.</summary>
    private delegate ValueTask<bool> Variant(Random random);

    private sealed record RunResult(double DecisionsPerSecond, double P50Microseconds, double P99Microseconds, long Denied, long Errors);

    private sealed class RunState
    {
        public const int WarmingUp = 0;
        public const int Measuring = 1;
        public const int Stopped = 2;

        public RunState(int concurrency)
        {
            Decisions = new long[concurrency];
            Denied = new long[concurrency];
            Errors = new long[concurrency];
            SampleCounts = new int[concurrency];
            Samples = new long[concurrency][];
            for (var i = 0; i < concurrency; i++)
            {
                Samples[i] = new long[LatencySamplesMax / concurrency];
            }
        }

        public int Phase = WarmingUp;

        public long[] Decisions { get; }

        public long[] Denied { get; }

        public long[] Errors { get; }

        public int[] SampleCounts { get; }

        public long[][] Samples { get; }
    }

    /// <summary>An <see cref="IKvConnection"/> on a multiplexer that is already connected.</summary>
    private sealed class FixedKvConnection(IConnectionMultiplexer multiplexer, string endpoint) : IKvConnection
    {
        public string Endpoint => endpoint;

        public bool IsEmbedded => false;

        public ValueTask<IConnectionMultiplexer> GetAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(multiplexer);
    }

    private sealed record Options(string Endpoint, TimeSpan Duration, TimeSpan Warmup, int Rounds, int[] Concurrency, int Keys, string[] Variants)
    {
        public static Options Parse(string[] args)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < args.Length; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                {
                    throw new FormatException($"unexpected argument '{args[i]}'");
                }

                values[args[i][2..]] = args[++i];
            }

            string Get(string name, string fallback) => values.Remove(name, out var value) ? value : fallback;
            double Number(string name, string fallback, double min)
            {
                var text = Get(name, fallback);
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || number < min)
                {
                    throw new FormatException($"--{name} must be a number ≥ {min}; got '{text}'");
                }

                return number;
            }

            var endpoint = Get("endpoint", "");
            if (endpoint.Length == 0)
            {
                throw new FormatException("--endpoint HOST:PORT is required");
            }

            var duration = TimeSpan.FromSeconds(Number("seconds", "3", 0.1));
            var warmup = TimeSpan.FromSeconds(Number("warmup-seconds", "0.5", 0));
            var rounds = (int)Number("rounds", "3", 1);
            var concurrency = Get("concurrency", "16,64").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(text => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 4096
                    ? n
                    : throw new FormatException($"--concurrency takes counts from 1 to 4096; got '{text}'"))
                .ToArray();
            var keys = (int)Number("keys", "10000", 1);
            var variants = Get("variants", AllVariants).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (concurrency.Length == 0 || variants.Length == 0)
            {
                throw new FormatException("--concurrency and --variants must not be empty");
            }

            if (values.Count > 0)
            {
                throw new FormatException($"unknown option --{values.Keys.First()}");
            }

            return new Options(endpoint, duration, warmup, rounds, concurrency, keys, variants);
        }
    }
}
