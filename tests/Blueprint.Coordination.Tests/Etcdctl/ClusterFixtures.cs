namespace Blueprint.Coordination.Tests.Etcdctl;

/// <summary>One <c>blueprint cluster up --nodes N</c> shared by the tests of a class; each test uses its own keys.</summary>
public abstract class ClusterFixture(int nodes) : IAsyncLifetime
{
    private LocalCluster? _cluster;

    public LocalCluster Cluster => _cluster ?? throw new InvalidOperationException("the cluster did not start");

    public async ValueTask InitializeAsync() => _cluster = await LocalCluster.StartAsync(nodes);

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}

/// <summary>Three members.</summary>
public sealed class ThreeMemberCluster() : ClusterFixture(3);

/// <summary>One member.</summary>
public sealed class OneMemberCluster() : ClusterFixture(1);
