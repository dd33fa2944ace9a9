using Blueprint.Caching;
using Blueprint.Chat;
using Blueprint.Coordination;
using Blueprint.Gateway;
using Blueprint.Hosting;
using Blueprint.Kv;
using Blueprint.Lab;
using Blueprint.Log;
using Blueprint.Notify;
using Blueprint.RateLimit;
using Blueprint.Shortener;
using Blueprint.Simulation;
using Blueprint.Sql;
using Blueprint.Storage;
using Blueprint.Telemetry;

namespace Blueprint.Node;

/// <summary>Every module this build can run, each after the modules it requires, and the tools with verbs. Adding a module is one line here.</summary>
public static class BlueprintCatalog
{
    /// <summary>Creates the catalog of this build.</summary>
    public static ModuleCatalog Create() => new(
        [
            new KvModule(),
            new SqlModule(),
            new CachingModule(),
            new RateLimitModule(),
            new ShortenerModule(),
            new GatewayModule(),
            new CoordinationModule(),
            new LogModule(),
            new NotifyModule(),
            new ChatModule(),
            new TelemetryModule(),
            new StorageModule(),
        ],
        tools:
        [
            VerbSource.Of(LabCommand.Create),
            VerbSource.Of(SimCommand.Create),
        ]);
}
