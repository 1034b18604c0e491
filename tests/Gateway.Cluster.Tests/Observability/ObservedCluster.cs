using System.Globalization;
using Gateway.Cluster.Tests.Infrastructure;

namespace Gateway.Cluster.Tests.Observability;

/// <summary>
/// Two silos and one edge over a real redis-server, started once for every observability test that only reads what
/// the cluster shows: a route to a live upstream (<c>echo</c>) and one to a port nobody listens on (<c>down</c>, always 502).
/// </summary>
public sealed class ObservedCluster() : ClusterFixture(silos: 2, edges: 1)
{
    public const string Collection = "observed cluster";

    public EdgeNode Edge => Cluster.Edges[0];

    public static string AdminToken => "test-admin-token-0123456789abcdefghij";

    public static string SessionSecret => "test-secret-0123456789abcdef0123456789abcdef";

    /// <summary>Polls a node's <c>/metrics</c> until the text satisfies the condition; fails with the last scrape otherwise.</summary>
    public static Task<string> ScrapeUntilAsync(ClusterNode node, Func<string, bool> condition, TimeSpan timeout, string description) =>
        Eventually.UntilAsync(() => node.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative)), condition, timeout, $"{node.Process.Name} /metrics showing {description}", TimeSpan.FromMilliseconds(250));

    protected override string Config(TestUpstream upstream) => $$"""
        upstreams:
          echo: { destinations: ["{{upstream.Address}}"] }
          down: { destinations: ["http://127.0.0.1:{{FreePort.Next().ToString(CultureInfo.InvariantCulture)}}"] }
        routes:
          - { id: echo, path: "/api/{**rest}", upstream: echo }
          - { id: down, path: "/down/{**rest}", upstream: down }
        """;
}

/// <summary>The classes that share one <see cref="ObservedCluster"/> (they run one after another).</summary>
[CollectionDefinition(ObservedCluster.Collection)]
public sealed class ObservedClusterDefinition : ICollectionFixture<ObservedCluster>;
