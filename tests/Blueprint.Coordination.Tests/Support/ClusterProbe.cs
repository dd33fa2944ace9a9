using Blueprint.Coordination.Etcd.Rpc;
using Grpc.Core;
using Grpc.Net.Client;

namespace Blueprint.Coordination.Tests.Support;

/// <summary>Asks members over the etcd API who leads.</summary>
public static class ClusterProbe
{
    /// <summary>Waits until every member in <paramref name="members"/> answers and reports the same leader; returns its id.</summary>
    public static async Task<ulong> WaitForLeaderAsync(IReadOnlyList<GrpcChannel> members, TimeSpan deadline, Func<string> diagnostics)
    {
        using var timeout = new CancellationTokenSource(deadline);
        var last = "";
        while (!timeout.IsCancellationRequested)
        {
            try
            {
                var leaders = new HashSet<ulong>();
                foreach (var member in members)
                {
                    var status = await new Maintenance.MaintenanceClient(member).StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: timeout.Token);
                    leaders.Add(status.Leader);
                }

                if (leaders.Count == 1 && !leaders.Contains(0UL))
                {
                    return leaders.Single();
                }

                last = $"leaders seen: {string.Join(",", leaders)}";
            }
            catch (RpcException e)
            {
                last = e.Status.ToString();
            }
            catch (OperationCanceledException)
            {
                break;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), timeout.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        throw new TimeoutException($"no common leader within {deadline}: {last}\n{diagnostics()}");
    }
}
