namespace Blueprint.Raft.Hosting.Tests;

/// <summary>Polls a condition until a deadline (through <see cref="Eventually"/>); fails with a message naming what never happened.</summary>
internal static class Wait
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? deadline = null) =>
        UntilAsync(condition, () => what, deadline);

    /// <summary>As above; <paramref name="what"/> is built when the deadline passes, so it can show the values then.</summary>
    public static Task UntilAsync(Func<bool> condition, Func<string> what, TimeSpan? deadline = null) =>
        Eventually.TrueAsync(condition, deadline ?? Deadline, () => $"waiting for: {what()}", TestContext.Current.CancellationToken);

    public static async Task<T> ForAsync<T>(Func<T?> probe, string what, TimeSpan? deadline = null)
        where T : class
    {
        T? value = null;
        await UntilAsync(() => (value = probe()) is not null, what, deadline);
        return value!;
    }
}
