using Gateway.Cluster.Tests.Infrastructure;

namespace Gateway.Cluster.Tests.Sessions;

/// <summary>
/// Two silos and three edges over a real redis-server with the session routes of <see cref="SessionHttp.Config"/>,
/// started once for every session test. Each test logs in users of its own; a test that needs edges with other secrets
/// adds them and ends them (<see cref="ClusterFixture.RemoveAddedNodesAsync"/>); a test that restarts the shared nodes
/// starts as many again.
/// </summary>
public sealed class SessionCluster() : ClusterFixture(silos: 2, edges: 3)
{
    public const string Collection = "session cluster";

    /// <summary>LocalCluster's <c>SESSION_SECRET</c>, which the shared edges sign with.</summary>
    public const string OldSecret = "test-secret-0123456789abcdef0123456789abcdef";

    public const string NewSecret = "rotated-secret-0123456789abcdef0123456789ab";

    /// <summary>Adds an edge that signs with <paramref name="current"/> and also accepts <paramref name="previous"/>, once ready.</summary>
    public async Task<EdgeNode> StartEdgeAsync(string current, string? previous)
    {
        var environment = new Dictionary<string, string> { ["SESSION_SECRET"] = current };
        if (previous is not null)
        {
            environment["SESSION_SECRET_PREVIOUS"] = previous;
        }

        var edge = Cluster.AddEdge(environment);
        await edge.WaitReadyAsync(TimeSpan.FromSeconds(60));
        return edge;
    }

    protected override string Config(TestUpstream upstream) => SessionHttp.Config(upstream.Address);
}

/// <summary>The session test classes, which share one <see cref="SessionCluster"/> (they run one after another).</summary>
[CollectionDefinition(SessionCluster.Collection)]
public sealed class SessionClusterDefinition : ICollectionFixture<SessionCluster>;
