namespace Gateway.Cluster.Tests.Infrastructure;

/// <summary>
/// A test upstream and a <see cref="LocalCluster"/> of real processes in front of it. As a class or collection fixture
/// it is started once for every test of the class or collection: for tests that only send traffic, or that add and
/// remove nodes of their own (and end them with <see cref="RemoveAddedNodesAsync"/>). A test class whose tests stop,
/// kill or restart the shared nodes derives from it instead, which gives each of its tests a cluster of its own (xunit
/// creates the class, and so the cluster, once per test).
/// </summary>
/// <param name="silos">The shared silos.</param>
/// <param name="edges">The shared edges.</param>
/// <param name="environment">Variables for every process of the cluster, over <see cref="LocalCluster"/>'s defaults.</param>
public abstract class ClusterFixture(int silos, int edges, IReadOnlyDictionary<string, string>? environment = null) : IAsyncLifetime
{
    public TestUpstream Upstream { get; private set; } = null!;

    public LocalCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await TestUpstream.StartAsync();
        Cluster = await LocalCluster.StartAsync(Config(Upstream), silos, edges, environment);
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        await Upstream.DisposeAsync();
    }

    /// <summary>
    /// Ends the silos and edges a test added beyond the fixture's own (alive, killed or already gone), so that the next
    /// test of the class or collection sees only the shared ones.
    /// </summary>
    public async Task RemoveAddedNodesAsync()
    {
        var added = Cluster.Silos.Skip(silos).Concat<ClusterNode>(Cluster.Edges.Skip(edges)).ToList();
        Cluster.Silos.RemoveRange(Math.Min(silos, Cluster.Silos.Count), Math.Max(0, Cluster.Silos.Count - silos));
        Cluster.Edges.RemoveRange(Math.Min(edges, Cluster.Edges.Count), Math.Max(0, Cluster.Edges.Count - edges));
        await Task.WhenAll(added.Select(node => node.DisposeAsync().AsTask()));
    }

    /// <summary>The cluster's gateway.yml, routing to <paramref name="upstream"/>.</summary>
    protected abstract string Config(TestUpstream upstream);
}
