using Blueprint.Testing.Linearizability;

namespace Blueprint.Testing.Tests.Linearizability;

/// <summary>Each key is checked on its own, so many keys cost their sum, not their product.</summary>
public sealed class CompositionalityTests
{
    private const int Keys = 200;

    [Fact]
    public void Check_ManyKeysWithConcurrentWriters_LinearizableWithWorkLinearInKeys()
    {
        HistoryRecorder h = ManyKeys();

        LinearizabilityResult result = h.Check();

        Assert.True(result.Verdict == Verdict.Linearizable, result.Explanation);
        Assert.Equal(Keys, result.Keys.Count);
        // Every key has the same shape, so every key costs the same: the keys do not multiply.
        Assert.Single(result.Keys.Select(k => k.Steps).Distinct());
    }

    [Fact]
    public void Check_OneBadKeyAmongMany_NamesOnlyThatKey()
    {
        HistoryRecorder h = ManyKeys();
        h.WriteOk(0, "k57", "stale");
        h.WriteOk(0, "k57", "fresh");
        h.ReadOk(1, "k57", "stale");

        LinearizabilityResult result = h.Check();

        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        Assert.Equal(["k57"], result.ViolatingKeys);
        Assert.Equal(Keys - 1, result.Keys.Count(k => k.Verdict == Verdict.Linearizable));
    }

    /// <summary>
    /// Three writers and two readers on each key, interleaved across keys: one key's operations overlap
    /// every other key's, which a checker that did not partition would have to search together.
    /// </summary>
    private static HistoryRecorder ManyKeys()
    {
        var h = new HistoryRecorder();
        for (int round = 0; round < 5; round++)
        {
            var pending = new List<PendingOperation>();
            for (int k = 0; k < Keys; k++)
            {
                string key = $"k{k}";
                int process = k * 10;
                pending.Add(h.Write(process, key, $"{round}a"));
                pending.Add(h.Write(process + 1, key, $"{round}b"));
                pending.Add(h.Write(process + 2, key, $"{round}c"));
            }

            foreach (PendingOperation operation in pending)
            {
                operation.Ok();
            }

            for (int k = 0; k < Keys; k++)
            {
                h.ReadOk((k * 10) + 3, $"k{k}", $"{round}b");
            }
        }

        return h;
    }
}
