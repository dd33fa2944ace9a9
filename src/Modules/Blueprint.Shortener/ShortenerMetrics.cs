using System.Diagnostics.Metrics;
using Blueprint.Hosting;
using Blueprint.Shortener.Caching;

namespace Blueprint.Shortener;

/// <summary>The module's counters, exported at <c>/metrics</c>.</summary>
internal sealed class ShortenerMetrics
{
    private readonly Counter<long> _redirects;
    private readonly Counter<long> _lookups;
    private readonly Counter<long> _clicksDropped;
    private readonly Counter<long> _created;

    public ShortenerMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(ServiceDefaults.ServiceName);
        // Redirects that succeed are counted by ASP.NET Core's http.server.request.duration (route /{code}, status 301/302): not again here, on the hot path.
        _redirects = meter.CreateCounter<long>("blueprint.shortener.redirects.failed", description: "Redirect requests that did not redirect, by outcome (expired, not_found).");
        _lookups = meter.CreateCounter<long>("blueprint.shortener.lookups", description: "Near-cache misses by the layer that answered (bloom, kv, sql).");
        _clicksDropped = meter.CreateCounter<long>("blueprint.shortener.clicks.dropped", description: "Clicks not recorded, by reason (buffer_full, write_failed).");
        _created = meter.CreateCounter<long>("blueprint.shortener.links.created", description: "Links created, by kind (generated, alias).");
    }

    public void Redirect(string outcome) => _redirects.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Lookup(LookupSource source) => _lookups.Add(1, new KeyValuePair<string, object?>("source", source switch
    {
        LookupSource.Bloom => "bloom",
        LookupSource.Kv => "kv",
        LookupSource.Sql => "sql",
        _ => "near_cache",
    }));

    public void ClicksDropped(string reason, long count) => _clicksDropped.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void Created(bool alias) => _created.Add(1, new KeyValuePair<string, object?>("kind", alias ? "alias" : "generated"));
}
