using System.Diagnostics.Metrics;
using System.Globalization;
using Blueprint.Core.Raft;
using Blueprint.Hosting;

namespace Blueprint.Raft.Hosting;

/// <summary>
/// The node's Raft hosts as observable gauges on the <c>blueprint</c> meter, read only when metrics are collected:
/// <c>blueprint.raft.role</c> (0 follower, 1 candidate or pre-candidate, 2 leader), <c>blueprint.raft.term</c>,
/// <c>blueprint.raft.commit_index</c> and <c>blueprint.raft.leader</c> (the leader's member id, 0 when none is known),
/// each labelled with the host's <c>group</c> (the module that runs it: coordination, log) and <c>member</c> id.
/// One instance a node (a singleton); each module adds its host.
/// </summary>
public sealed class RaftMetrics
{
    /// <summary>The role gauge's name.</summary>
    public const string RoleMetric = "blueprint.raft.role";

    /// <summary>The term gauge's name.</summary>
    public const string TermMetric = "blueprint.raft.term";

    /// <summary>The commit index gauge's name.</summary>
    public const string CommitIndexMetric = "blueprint.raft.commit_index";

    /// <summary>The leader gauge's name.</summary>
    public const string LeaderMetric = "blueprint.raft.leader";

    private readonly Lock _lock = new();
    private (string Group, RaftHost Host)[] _hosts = [];

    /// <summary>Creates the gauges on the node's meter.</summary>
    public RaftMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(ServiceDefaults.ServiceName);
        meter.CreateObservableGauge(RoleMetric, () => Observe(host => RoleValue(host.Role)), description: "This member's Raft role: 0 follower, 1 candidate (or pre-candidate), 2 leader; by group (coordination, log) and member id.");
        meter.CreateObservableGauge(TermMetric, () => Observe(host => host.Term), description: "This member's current Raft term, by group and member id.");
        meter.CreateObservableGauge(CommitIndexMetric, () => Observe(host => host.CommitIndex), unit: "{entry}", description: "The highest log index this member knows committed, by group and member id.");
        meter.CreateObservableGauge(LeaderMetric, () => Observe(host => host.LeaderId), description: "The member id of the leader this member knows (0 when none), by group and member id.");
    }

    /// <summary>Adds <paramref name="host"/> under <paramref name="group"/> (the module that runs it).</summary>
    public void Add(string group, RaftHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        lock (_lock)
        {
            _hosts = [.. _hosts, (group, host)];
        }
    }

    /// <summary>The role as the gauge reports it.</summary>
    public static long RoleValue(RaftRole role) => role switch
    {
        RaftRole.Leader => 2,
        RaftRole.Candidate or RaftRole.PreCandidate => 1,
        _ => 0,
    };

    private IEnumerable<Measurement<long>> Observe(Func<RaftHost, long> read)
    {
        foreach (var (group, host) in Volatile.Read(ref _hosts))
        {
            if (!host.IsStopped)
            {
                yield return new Measurement<long>(
                    read(host),
                    new KeyValuePair<string, object?>("group", group),
                    new KeyValuePair<string, object?>("member", host.Id.ToString(CultureInfo.InvariantCulture)));
            }
        }
    }
}
