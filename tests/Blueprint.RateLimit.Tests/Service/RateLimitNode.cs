namespace Blueprint.RateLimit.Tests.Service;

/// <summary>Starting nodes that run the rate limiter with given rules.</summary>
internal static class RateLimitNode
{
    public static Task<TestNode> StartAsync(string rules, IReadOnlyDictionary<string, string?>? extra = null, string? dataDir = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Node:Modules"] = "kv,ratelimit",
            ["RateLimit:Rules"] = rules,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return TestNode.StartAsync(dataDir, settings, TestContext.Current.CancellationToken);
    }

    /// <summary>Waits for <paramref name="condition"/> with a deadline, re-checking briefly; fails with <paramref name="what"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan deadline, string what)
    {
        var until = DateTime.UtcNow + deadline;
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
            {
                Assert.Fail($"not within {deadline}: {what}");
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
