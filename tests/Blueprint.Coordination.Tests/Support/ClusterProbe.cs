using Blueprint.Coordination.Etcd.Rpc;
using Grpc.Core;
using Grpc.Net.Client;

namespace Blueprint.Coordination.Tests.Support;

/// <summary>Asks members over the etcd API who leads.</summary>
public static class ClusterProbe
{
    /// <summary>Waits until every member in <paramref name="members"/> answers and reports the same leader; returns its id.</summary>
    /// <exception cref="TimeoutException">No common leader by <paramref name="deadline"/>; the message has the last answers and <paramref name="diagnostics"/>.</exception>
    public static async Task<ulong> WaitForLeaderAsync(IReadOnlyList<GrpcChannel> members, TimeSpan deadline, Func<string> diagnostics)
    {
        // Calls still out at the deadline end there, so the last poll (the one described) does not outlast it by much.
        using var calls = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        calls.CancelAfter(deadline);
        var found = await Eventually.ValueAsync(
            () => LeaderAsync(members, calls.Token),
            probe => probe.Leader is not null,
            deadline,
            probe => $"no common leader: {probe.Seen}\n{diagnostics()}",
            TestContext.Current.CancellationToken);
        return found.Leader!.Value;
    }

    /// <summary>The leader every member reports, or null and what was seen instead.</summary>
    private static async Task<(ulong? Leader, string Seen)> LeaderAsync(IReadOnlyList<GrpcChannel> members, CancellationToken cancellationToken)
    {
        try
        {
            var leaders = new HashSet<ulong>();
            foreach (var member in members)
            {
                var status = await new Maintenance.MaintenanceClient(member).StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken);
                leaders.Add(status.Leader);
            }

            return leaders.Count == 1 && !leaders.Contains(0UL)
                ? (leaders.Single(), "")
                : (null, $"leaders seen: {string.Join(",", leaders)}");
        }
        catch (RpcException e)
        {
            return (null, e.Status.ToString());
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            return (null, "the status calls were still out at the deadline");
        }
    }
}
