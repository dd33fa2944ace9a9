using System.Diagnostics.Metrics;
using Blueprint.Hosting;
using Blueprint.Storage.Cluster;
using Blueprint.Storage.Local;

namespace Blueprint.Storage;

/// <summary>
/// The module's instruments, exported at <c>/metrics</c> and drawn by the dashboard: all observed from counters the
/// store and the replication keep anyway, so the request path pays nothing for them. Requests themselves are counted by
/// ASP.NET Core's <c>http.server.request.duration</c>.
/// </summary>
internal sealed class StorageMetrics
{
    public StorageMetrics(IMeterFactory meters, LocalStore store, AntiEntropy antiEntropy, RepairQueue repairs)
    {
        var meter = meters.Create(ServiceDefaults.ServiceName);
        meter.CreateObservableCounter("blueprint.storage.corrupt_reads", () => store.CorruptReads, description: "Reads that found a block of this node's copy failing its checksum (the bytes were served from another replica or not at all).");
        meter.CreateObservableCounter("blueprint.storage.hints.handed_off", () => antiEntropy.HandedOff, description: "Copies kept for a node that was down and handed to it when it came back.");
        meter.CreateObservableCounter("blueprint.storage.anti_entropy.pulled", () => antiEntropy.Pulled, description: "Object versions pulled from peers because a Merkle leaf differed.");
        meter.CreateObservableCounter("blueprint.storage.repairs", () => repairs.Done, description: "Read repairs and corrupt-copy replacements made.");
        meter.CreateObservableCounter("blueprint.storage.repairs.dropped", () => repairs.Dropped, description: "Repairs dropped because the repair queue was full (anti-entropy makes them later).");
    }
}
