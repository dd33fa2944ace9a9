using Blueprint.Hosting;
using Blueprint.RateLimit.Rules;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.RateLimit.Tests.Service;

public sealed class RuleReloadTests
{
    private const string TwoPerHour = "domain: api\ndescriptors:\n  - key: user\n    rate_limit: { unit: hour, requests_per_unit: 2 }\n";
    private const string FivePerHour = "domain: api\ndescriptors:\n  - key: user\n    rate_limit: { unit: hour, requests_per_unit: 5 }\n";

    private static RateLimitRequest For(string user) => new("api", [[new DescriptorEntry("user", user)]]);

    // Waits for the reload attempt that ends in the expected state (one save can fire several events).
    private static async Task<bool> ReloadedAsync(RuleStore store, Action write, bool expectGood = true)
    {
        var reloaded = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var versionBefore = store.Version;
        void OnReloaded(object? sender, EventArgs e)
        {
            if (expectGood ? store.Version > versionBefore && store.LastError is null : store.LastError is not null)
            {
                reloaded.TrySetResult(store.LastError is null);
            }
        }

        store.Reloaded += OnReloaded;
        try
        {
            write();
            return await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        }
        finally
        {
            store.Reloaded -= OnReloaded;
        }
    }

    [Fact]
    public async Task RulesFileChanged_NewRulesApplyAndABadEditKeepsTheLastGoodOnes()
    {
        using var data = new TempDirectory();
        var file = Path.Combine(data.Path, "rules.yaml");
        await File.WriteAllTextAsync(file, TwoPerHour, TestContext.Current.CancellationToken);
        await using var node = await RateLimitNode.StartAsync("", new Dictionary<string, string?> { ["RateLimit:RulesFile"] = "rules.yaml" }, data.Path);
        var service = node.Node.Services.GetRequiredService<RateLimitService>();
        var store = node.Node.Services.GetRequiredService<RuleStore>();
        Assert.Equal(2, service.Rules.Match("api", [new DescriptorEntry("user", "u")])!.Limit.Spec.RequestsPerUnit);

        Assert.True(await ReloadedAsync(store, () => File.WriteAllText(file, FivePerHour)));
        Assert.Equal(5, service.Rules.Match("api", [new DescriptorEntry("user", "u")])!.Limit.Spec.RequestsPerUnit);

        // A broken edit: rejected, named, and the five-per-hour rule stays in force.
        Assert.False(await ReloadedAsync(store, () => File.WriteAllText(file, "domain: api\ndescriptors:\n  - key: user\n    rate_limit: { unit: week, requests_per_unit: 5 }\n"), expectGood: false));
        Assert.Contains("api/user: rate_limit.unit 'week'", store.LastError, StringComparison.Ordinal);

        // An emptied file (a write in progress, or a mistake) is not "no limits".
        Assert.False(await ReloadedAsync(store, () => File.WriteAllText(file, ""), expectGood: false));
        Assert.Equal("the rules file is empty", store.LastError);
        for (var i = 0; i < 5; i++)
        {
            Assert.False((await service.CheckAsync(For("kept"), TestContext.Current.CancellationToken)).OverLimit);
        }

        Assert.True((await service.CheckAsync(For("kept"), TestContext.Current.CancellationToken)).OverLimit);
    }

    [Fact]
    public async Task InvalidRulesAtStart_StopTheNodeNamingTheRule()
    {
        using var data = new TempDirectory();
        await using var node = BlueprintNode.Create(TestNode.RequireCatalog(), new Dictionary<string, string?>
        {
            ["Node:DataDir"] = data.Path,
            ["Node:HttpPort"] = "0",
            ["Node:Modules"] = "kv,ratelimit",
            ["Kv:Port"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimit:Rules"] = "domain: api\ndescriptors:\n  - key: user\n    rate_limit: { unit: second, requests_per_unit: many }\n",
        });
        var error = await Assert.ThrowsAnyAsync<Exception>(() => node.StartAsync(TestContext.Current.CancellationToken));
        var line = Assert.Single(StartupFailure.Describe(error)!);
        Assert.Contains("api/user: 'requests_per_unit' = 'many' must be a whole number", line, StringComparison.Ordinal);
    }
}
