namespace Blueprint.Lab.Experiments;

/// <summary>The claims, tables and plot.</summary>
public sealed partial class CachePatternsExperiment
{
    private static ExperimentResult Report(
        Sizes sizes, List<WorkloadRun> workloads, List<AckStaleness> afterAck, double[] behindTheBackMs,
        double cacheAsidePerStampede, double readThroughPerStampede, CrashRun crash)
    {
        int ops = sizes.Operations;
        WorkloadRun aside = workloads[0];
        WorkloadRun through = workloads[2];
        WorkloadRun behind = workloads[3];
        AckStaleness behindAck = afterAck[3];
        double flushMs = WriteBehindOptions.FlushDelayMax.TotalMilliseconds;
        double ttlMs = sizes.StalenessTtl.TotalMilliseconds;
        double synchronousLagMaxMs = afterAck.Take(3).Max(row => row.DatabaseLagMaxMs);
        long unflushedBound = CrashQueueCapacity + CrashBatchSizeMax;

        List<Claim> claims =
        [
            new("write-through-keeps-hot-keys-cached", "Write-through keeps written keys in the cache; invalidating on write costs a miss after each write.",
                "on the same workload, write-through loads the database less often than cache-aside, which deletes the key at every write",
                $"database reads per 1000 operations: write-through {Fmt.Num(through.ReadsPer1000(ops), 1)}, cache-aside {Fmt.Num(aside.ReadsPer1000(ops), 1)} (hit ratios {Fmt.Pct(through.HitRatio, 1)} and {Fmt.Pct(aside.HitRatio, 1)})",
                through.Stats.DatabaseReads < aside.Stats.DatabaseReads),
            new("write-behind-fewest-database-writes", "Write-behind batches and coalesces: the database sees far fewer writes.",
                $"write-behind's database write calls ≤ a fifth of write-through's (one per write): batches of up to {WriteBehindOptions.BatchSizeMax} every {Fmt.Num(flushMs, 0)} ms, a hot key written once per batch",
                $"database writes per 1000 operations: write-behind {Fmt.Num(behind.WritesPer1000(ops), 1)}, write-through {Fmt.Num(through.WritesPer1000(ops), 1)}",
                behind.Stats.DatabaseWrites * 5 <= through.Stats.DatabaseWrites),
            new("write-behind-acknowledges-fastest", "Write-behind acknowledges a write without waiting for the database.",
                "write-behind's median write latency is below write-through's, which waits for a SQLite commit (fsync) and a cache write",
                $"write p50 / p99: write-behind {Fmt.Num(behind.WriteP50Ms, 3)} / {Fmt.Num(behind.WriteP99Ms, 3)} ms, write-through {Fmt.Num(through.WriteP50Ms, 3)} / {Fmt.Num(through.WriteP99Ms, 3)} ms",
                behind.WriteP50Ms < through.WriteP50Ms),
            new("read-through-single-flight", "Read-through folds a stampede on a cold key into one database load.",
                $"{sizes.StampedeReaders} concurrent readers on a cold key: read-through loads about once (≤ 2 on average), cache-aside once per reader that missed",
                $"database reads per stampede: read-through {Fmt.Num(readThroughPerStampede, 1)}, cache-aside {Fmt.Num(cacheAsidePerStampede, 1)} ({sizes.Stampedes} stampedes)",
                readThroughPerStampede <= 2 && readThroughPerStampede < cacheAsidePerStampede),
            new("acknowledged-write-is-read", "After a write is acknowledged, a reader through the cache sees it: delete, update or write-behind's cache write.",
                $"no stale read: in the workload (one client) and from a second reader right after each of {sizes.AckTrials} acknowledged writes, per pattern",
                $"stale reads: workload {string.Join(", ", workloads.Select(row => $"{row.Pattern} {row.StaleReads}"))}; second reader {string.Join(", ", workloads.Zip(afterAck).Select(pair => $"{pair.First.Pattern} {pair.Second.StaleReads}"))}",
                workloads.All(row => row.StaleReads == 0) && afterAck.All(row => row.StaleReads == 0)),
            new("write-behind-database-lags", "Write-behind's database lags the acknowledged write by up to the flush delay; the others' holds it at the ack.",
                $"write-behind: the table has the write within the flush delay ({Fmt.Num(flushMs, 0)} ms, +{Fmt.Num(ToleranceMs, 0)} ms); cache-aside, read-through and write-through: at once (< {Fmt.Num(ToleranceMs / 5, 0)} ms)",
                $"write-behind lag mean {Fmt.Num(behindAck.DatabaseLagMeanMs, 1)} ms, max {Fmt.Num(behindAck.DatabaseLagMaxMs, 1)} ms; others max {Fmt.Num(synchronousLagMaxMs, 1)} ms",
                behindAck.DatabaseLagMaxMs <= flushMs + ToleranceMs && behindAck.DatabaseLagMeanMs >= flushMs / 2 && synchronousLagMaxMs < ToleranceMs / 5),
            new("ttl-bounds-staleness", "A change made behind the cache's back is served stale until the TTL ends, no longer.",
                $"TTL {Fmt.Num(ttlMs, 0)} ms: each pattern's reader sees the change after between half the TTL and the TTL + {Fmt.Num(ToleranceMs, 0)} ms",
                string.Join(", ", PatternNames.Zip(behindTheBackMs).Select(pair => $"{pair.First} {Fmt.Num(pair.Second, 0)} ms")),
                behindTheBackMs.All(ms => ms >= ttlMs / 2 && ms <= ttlMs + ToleranceMs)),
            new("database-converges", "Every pattern leaves the database holding the last acknowledged write of each key (write-behind after its drain on stop).",
                $"all {sizes.Keys} keys equal the last write, per pattern",
                string.Join(", ", workloads.Select(row => $"{row.Pattern} {row.Diverged} differ")),
                workloads.All(row => row.Diverged == 0)),
            new("crash-loses-only-unflushed", "A crash of a write-behind node loses at most what was acknowledged and not yet flushed.",
                $"after SIGKILL the table holds every write the node had flushed, loses at most those queued or in flight just before the kill, at most queue capacity + batch = {Fmt.Int(unflushedBound)}, and holds nothing unacknowledged",
                $"acknowledged {Fmt.Int(crash.Acknowledged)}, flushed before the kill {Fmt.Int(crash.FlushedBeforeKill)}, unflushed {Fmt.Int(crash.UnflushedBeforeKill)}; persisted {Fmt.Int(crash.Persisted)}, lost {Fmt.Int(crash.Lost)}, unacknowledged in the table {crash.Unacknowledged}",
                crash.Acknowledged == crash.Sent && crash.Persisted >= crash.FlushedBeforeKill && crash.Lost <= crash.UnflushedBeforeKill
                    && crash.Lost <= unflushedBound && crash.Unacknowledged == 0),
        ];

        ResultTable load = new(
            $"Database load and write latency ({Fmt.Int(ops)} operations, {Fmt.Pct(ReadFraction, 0)} reads, Zipf s={Fmt.Num(ZipfExponent, 1)} over {Fmt.Int(sizes.Keys)} keys)",
            ["pattern", "DB reads / 1000 ops", "DB writes / 1000 ops", "hit ratio", "write p50 ms", "write p99 ms"],
            [.. workloads.Select(row => (IReadOnlyList<string>)
                [row.Pattern, Fmt.Num(row.ReadsPer1000(ops), 1), Fmt.Num(row.WritesPer1000(ops), 1), Fmt.Pct(row.HitRatio, 1), Fmt.Num(row.WriteP50Ms, 3), Fmt.Num(row.WriteP99Ms, 3)])]);
        ResultTable staleness = new(
            "Staleness",
            ["pattern", $"stale second-reader reads after ack (of {sizes.AckTrials})", "DB lag after ack, mean ms", "DB lag after ack, max ms", $"change behind the cache visible after ms (TTL {Fmt.Num(ttlMs, 0)})"],
            [.. PatternNames.Select((name, i) => (IReadOnlyList<string>)
                [name, afterAck[i].StaleReads.ToString(System.Globalization.CultureInfo.InvariantCulture), Fmt.Num(afterAck[i].DatabaseLagMeanMs, 1), Fmt.Num(afterAck[i].DatabaseLagMaxMs, 1), Fmt.Num(behindTheBackMs[i], 0)])]);
        ResultTable loss = new(
            $"Write-behind crash (node killed with SIGKILL; batch {CrashBatchSizeMax}, flush delay {CrashFlushMilliseconds} ms)",
            ["sent", "acknowledged (202)", "flushed before kill", "queued or in flight", "persisted", "lost"],
            [[Fmt.Int(crash.Sent), Fmt.Int(crash.Acknowledged), Fmt.Int(crash.FlushedBeforeKill), Fmt.Int(crash.UnflushedBeforeKill), Fmt.Int(crash.Persisted), Fmt.Int(crash.Lost)]]);
        double[] xs = [.. Enumerable.Range(1, PatternNames.Length).Select(i => (double)i)];
        PlotSpec plot = new("Database load per pattern (1 cache-aside, 2 read-through, 3 write-through, 4 write-behind)", "pattern", "calls per 1000 operations",
        [
            new PlotSeries("database reads", xs, [.. workloads.Select(row => row.ReadsPer1000(ops))], Markers: true),
            new PlotSeries("database writes", xs, [.. workloads.Select(row => row.WritesPer1000(ops))], Markers: true),
        ]);
        return new ExperimentResult(ExperimentName,
            "The patterns of Blueprint.Cache run in the lab's process against a 'blueprint run --modules kv' node (RESP, embedded Garnet) and a SQLite file (WAL, synchronous=FULL); one client for the workload, a second pattern instance as the other reader. The crash runs a 'kv,sql,cache' node over HTTP and reads its SQLite file after SIGKILL.",
            claims, [load, staleness, loss], plot);
    }
}
