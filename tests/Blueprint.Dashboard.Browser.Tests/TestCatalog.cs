using System.Runtime.CompilerServices;
using Blueprint.Gateway;
using Blueprint.Hosting;
using Blueprint.Kv;
using Blueprint.Shortener;
using Blueprint.Sql;
using Blueprint.Telemetry;

namespace Blueprint.Dashboard.Browser.Tests;

/// <summary>
/// The modules this assembly's test nodes compose: a gateway in front of the URL shortener (and the KV and SQL it
/// requires), and the telemetry module whose APIs the dashboard's Metrics and Traces sections read.
/// </summary>
internal static class TestCatalog
{
    [ModuleInitializer]
    internal static void Register() => TestNode.DefaultCatalog = new ModuleCatalog(
        [
            new KvModule(),
            new SqlModule(),
            new ShortenerModule(),
            new GatewayModule(),
            new TelemetryModule(),
        ]);
}
