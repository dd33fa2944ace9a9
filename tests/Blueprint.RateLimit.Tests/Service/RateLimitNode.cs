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
}
