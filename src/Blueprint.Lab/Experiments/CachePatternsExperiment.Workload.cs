using System.Diagnostics;

using Blueprint.Cache.Patterns;
using Blueprint.Lab.Experiments.Messaging;

namespace Blueprint.Lab.Experiments;

/// <summary>The mixed workload (database load, write latency, convergence) and the stampede.</summary>
public sealed partial class CachePatternsExperiment
{
    private const double ReadFraction = 0.9;
    private const double ZipfExponent = 1.0;
    private const int PreloadBatch = 1000;

    /// <summary>Runs the same seeded Zipf workload through <paramref name="pattern"/>; checks every read and, at the end, the table.</summary>
    private static async Task<WorkloadRun> RunWorkloadAsync(ICachingPattern<string, string> pattern, DbRecordStore store, Sizes sizes, int seed)
    {
        string[] keys = [.. Enumerable.Range(0, sizes.Keys).Select(i => $"item:{i}")];
        Dictionary<string, string> model = keys.ToDictionary(key => key, _ => "v0");
        foreach (string[] chunk in keys.Chunk(PreloadBatch))
        {
            await store.SaveBatchAsync([.. chunk.Select(key => new RecordWrite<string, string>(key, "v0"))], CancellationToken.None).ConfigureAwait(false);
        }

        Zipf zipf = new(sizes.Keys, ZipfExponent);
        Random random = new(seed);
        List<double> writeMs = [];
        long staleReads = 0;
        for (int op = 1; op <= sizes.Operations; op++)
        {
            string key = keys[zipf.Next(random)];
            if (random.NextDouble() < ReadFraction)
            {
                PatternRead<string> read = await pattern.GetAsync(key, CancellationToken.None).ConfigureAwait(false);
                if (read.Value != model[key])
                {
                    staleReads++;
                }
            }
            else
            {
                string value = $"v{op}";
                long started = Stopwatch.GetTimestamp();
                await pattern.SetAsync(key, value, CancellationToken.None).ConfigureAwait(false);
                writeMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                model[key] = value;
            }
        }

        PatternStats stats = pattern.Counters.Snapshot();
        if (pattern is WriteBehind<string, string> behind)
        {
            await behind.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        int diverged = 0;
        foreach (string key in keys)
        {
            if (await store.LoadAsync(key, CancellationToken.None).ConfigureAwait(false) != model[key])
            {
                diverged++;
            }
        }

        return new WorkloadRun(pattern.Name, stats, writeMs.Count, Pacing.Percentile(writeMs, 0.50), Pacing.Percentile(writeMs, 0.99), staleReads, diverged);
    }

    /// <summary>Sends <see cref="Sizes.StampedeReaders"/> concurrent readers at each of several cold keys; returns database reads per stampede.</summary>
    private static async Task<double> StampedeAsync(ICachingPattern<string, string> pattern, DbRecordStore store, Sizes sizes)
    {
        long before = pattern.Counters.DatabaseReads;
        for (int s = 0; s < sizes.Stampedes; s++)
        {
            string key = $"cold:{s}";
            await store.SaveAsync(key, "value", CancellationToken.None).ConfigureAwait(false);
            using Barrier start = new(sizes.StampedeReaders);
            Task[] readers = [.. Enumerable.Range(0, sizes.StampedeReaders).Select(_ => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait();
                PatternRead<string> read = pattern.GetAsync(key, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                RunInvariant.Holds(read.Value == "value", $"{pattern.Name}: a stampede reader read '{read.Value}'");
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))];
            await Task.WhenAll(readers).ConfigureAwait(false);
        }

        return (pattern.Counters.DatabaseReads - before) / (double)sizes.Stampedes;
    }

    /// <summary>One pattern's run of the workload.</summary>
    private sealed record WorkloadRun(string Pattern, PatternStats Stats, int Writes, double WriteP50Ms, double WriteP99Ms, long StaleReads, int Diverged)
    {
        public double ReadsPer1000(int operations) => Stats.DatabaseReads * 1000.0 / operations;

        public double WritesPer1000(int operations) => Stats.DatabaseWrites * 1000.0 / operations;

        public double HitRatio => Stats.CacheHits / (double)Math.Max(1, Stats.CacheHits + Stats.CacheMisses);
    }

    /// <summary>Key ranks drawn with probability ∝ 1/rank^s: a few hot keys, a long tail.</summary>
    private sealed class Zipf
    {
        private readonly double[] _cumulative;

        public Zipf(int keys, double exponent)
        {
            _cumulative = new double[keys];
            double sum = 0;
            for (int rank = 0; rank < keys; rank++)
            {
                sum += 1 / Math.Pow(rank + 1, exponent);
                _cumulative[rank] = sum;
            }

            for (int rank = 0; rank < keys; rank++)
            {
                _cumulative[rank] /= sum;
            }
        }

        public int Next(Random random)
        {
            int index = Array.BinarySearch(_cumulative, random.NextDouble());
            return Math.Min(index < 0 ? ~index : index, _cumulative.Length - 1);
        }
    }
}
