namespace Blueprint.Coordination.Tests.Etcdctl;

/// <summary>One <c>blueprint cluster up --nodes 3</c> shared by the etcdctl tests of a class; each test uses its own keys.</summary>
public sealed class ThreeMemberCluster : IAsyncLifetime
{
    private LocalCluster? _cluster;

    public LocalCluster Cluster => _cluster ?? throw new InvalidOperationException("the cluster did not start");

    public async ValueTask InitializeAsync() => _cluster = await LocalCluster.StartAsync(3);

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
