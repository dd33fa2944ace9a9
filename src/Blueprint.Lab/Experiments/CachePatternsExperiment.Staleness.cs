using System.Diagnostics;

using Blueprint.Cache.Patterns;
using Blueprint.Lab.Experiments.Messaging;

namespace Blueprint.Lab.Experiments;

/// <summary>How long a reader can see an old value.</summary>
public sealed partial class CachePatternsExperiment
{
    /// <summary>The pause between two reads while waiting for a new value.</summary>
    private static readonly TimeSpan PollPause = TimeSpan.FromMilliseconds(5);

    /// <summary>The longest wait for a new value before the run is abandoned.</summary>
    private static readonly TimeSpan StalenessDeadline = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A writer and a second reader (another process, as far as the pattern knows: its own instance over the same cache
    /// keys and table). Each trial: the reader caches the old value, the writer writes a new one, and at the ack the
    /// reader reads once (stale or not) and the table is polled until it holds the new value.
    /// </summary>
    private static async Task<AckStaleness> AfterAckAsync(ICachingPattern<string, string> writer, ICachingPattern<string, string> reader, DbRecordStore store, int trials)
    {
        int stale = 0;
        List<double> databaseLagMs = [];
        for (int trial = 0; trial < trials; trial++)
        {
            string key = $"ack:{trial}";
            await store.SaveAsync(key, "old", CancellationToken.None).ConfigureAwait(false);
            ExpectRead(await reader.GetAsync(key, CancellationToken.None).ConfigureAwait(false), "old", writer.Name);
            await writer.SetAsync(key, "new", CancellationToken.None).ConfigureAwait(false);
            long acknowledged = Stopwatch.GetTimestamp();
            if ((await reader.GetAsync(key, CancellationToken.None).ConfigureAwait(false)).Value != "new")
            {
                stale++;
            }

            databaseLagMs.Add(await MillisecondsUntilAsync(async () => await store.LoadAsync(key, CancellationToken.None).ConfigureAwait(false) == "new", acknowledged).ConfigureAwait(false));
        }

        return new AckStaleness(stale, databaseLagMs.Average(), databaseLagMs.Max());
    }

    /// <summary>The reader caches a value, the table changes behind its back; how long until the reader sees the change.</summary>
    private static async Task<double> BehindTheBackAsync(ICachingPattern<string, string> reader, DbRecordStore store)
    {
        const string Key = "behind-the-back";
        await store.SaveAsync(Key, "old", CancellationToken.None).ConfigureAwait(false);
        ExpectRead(await reader.GetAsync(Key, CancellationToken.None).ConfigureAwait(false), "old", reader.Name);
        await store.SaveAsync(Key, "new", CancellationToken.None).ConfigureAwait(false);
        return await MillisecondsUntilAsync(async () => (await reader.GetAsync(Key, CancellationToken.None).ConfigureAwait(false)).Value == "new", Stopwatch.GetTimestamp()).ConfigureAwait(false);
    }

    private static async Task<double> MillisecondsUntilAsync(Func<Task<bool>> condition, long since)
    {
        while (!await condition().ConfigureAwait(false))
        {
            RunInvariant.Holds(Stopwatch.GetElapsedTime(since) < StalenessDeadline, $"no new value within {StalenessDeadline.TotalSeconds:F0} s");
            await Task.Delay(PollPause).ConfigureAwait(false);
        }

        return Stopwatch.GetElapsedTime(since).TotalMilliseconds;
    }

    private static void ExpectRead(PatternRead<string> read, string expected, string pattern) =>
        RunInvariant.Holds(read.Value == expected, $"{pattern}: the reader read '{read.Value}', expected '{expected}'");

    /// <summary>Reads after acknowledged writes: stale ones, and how long the table lagged.</summary>
    private sealed record AckStaleness(int StaleReads, double DatabaseLagMeanMs, double DatabaseLagMaxMs);
}
