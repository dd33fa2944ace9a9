namespace Blueprint.Coordination.Tests.Etcdctl;

/// <summary>One <c>blueprint cluster up --nodes 1</c> shared by the tests of a class.</summary>
public sealed class OneMemberCluster : IAsyncLifetime
{
    private LocalCluster? _cluster;

    public LocalCluster Cluster => _cluster ?? throw new InvalidOperationException("the cluster did not start");

    public async ValueTask InitializeAsync() => _cluster = await LocalCluster.StartAsync(1);

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
