using Gateway.Cluster.Tests.Infrastructure;

namespace Gateway.Cluster.Tests.Sessions;

/// <summary>
/// Two silos and three edges over a real redis-server with the session routes of <see cref="SessionHttp.Config"/>,
/// started once for every session test. Each test logs in users of its own; a test that needs edges with other secrets
/// adds them and ends them (<see cref="ClusterFixture.RemoveAddedNodesAsync"/>); a test that restarts the shared nodes
/// starts as many again.
/// </summary>
/// <remarks>
/// Its silos write their I-am-alive time every 2 s instead of 10 s: after the restart of every silo, the new ones wait
/// until the killed ones' entries are three intervals old before they join (30 s with the default, 6 s here).
/// </remarks>
public sealed class SessionCluster() : ClusterFixture(silos: 2, edges: 3, new Dictionary<string, string> { ["ORLEANS_IAMALIVE_INTERVAL"] = "2s" })
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
