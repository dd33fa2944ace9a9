namespace Blueprint.Raft.Hosting.Tests;

/// <summary>Polls a condition until a deadline; fails with a message naming what never happened.</summary>
internal static class Wait
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? deadline = null) =>
        UntilAsync(condition, () => what, deadline);

    /// <summary>As above; <paramref name="what"/> is built when the deadline passes, so it can show the values then.</summary>
    public static async Task UntilAsync(Func<bool> condition, Func<string> what, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? Deadline);
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                Assert.Fail($"Timed out after {(deadline ?? Deadline).TotalSeconds} s waiting for: {what()}");
            }

            await Task.Delay(PollInterval, TestContext.Current.CancellationToken);
        }
    }

    public static async Task<T> ForAsync<T>(Func<T?> probe, string what, TimeSpan? deadline = null)
        where T : class
    {
        T? value = null;
        await UntilAsync(() => (value = probe()) is not null, what, deadline);
        return value!;
    }
}
