namespace Gateway.Cluster.Tests.Infrastructure;

/// <summary>
/// A test upstream and a <see cref="LocalCluster"/> of real processes in front of it. As a class or collection fixture
/// it is started once for every test of the class or collection: for tests that only send traffic, or that add and
/// remove nodes of their own. A test class whose tests stop, kill or restart nodes derives from it instead, which gives
/// each of its tests a cluster of its own (xunit creates the class, and so the cluster, once per test).
/// </summary>
public abstract class ClusterFixture(int silos, int edges) : IAsyncLifetime
{
    public TestUpstream Upstream { get; private set; } = null!;

    public LocalCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await TestUpstream.StartAsync();
        Cluster = await LocalCluster.StartAsync(Config(Upstream), silos, edges);
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        await Upstream.DisposeAsync();
    }

    /// <summary>The cluster's gateway.yml, routing to <paramref name="upstream"/>.</summary>
    protected abstract string Config(TestUpstream upstream);
}
