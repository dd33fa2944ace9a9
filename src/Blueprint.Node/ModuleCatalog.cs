using Blueprint.Coordination;
using Blueprint.Gateway;
using Blueprint.Hosting;
using Blueprint.Kv;
using Blueprint.RateLimit;
using Blueprint.Shortener;
using Blueprint.Sql;

namespace Blueprint.Node;

/// <summary>Every module this build can run. Adding a module is one line here.</summary>
public static class ModuleCatalog
{
    /// <summary>Creates a fresh instance of each available module.</summary>
    public static IReadOnlyList<IBlueprintModule> CreateAll() =>
    [
        new KvModule(),
        new SqlModule(),
        new RateLimitModule(),
        new ShortenerModule(),
        new GatewayModule(),
        new CoordinationModule(),
    ];

    /// <summary>The names of the available modules.</summary>
    public static IReadOnlyList<string> Names { get; } = CreateAll().Select(module => module.Name).ToArray();
}
