using System.Globalization;

namespace Gateway.Cluster.Tests.Observability;

/// <summary>
/// Two silos and one edge over a real redis-server, shared by the observability tests of one class: a route to a
/// live upstream (<c>echo</c>) and one to a port nobody listens on (<c>down</c>, always 502).
/// </summary>
public sealed class ObservedCluster : IAsyncLifetime
{
    public TestUpstream Upstream { get; private set; } = null!;

    public LocalCluster Cluster { get; private set; } = null!;

    public EdgeNode Edge => Cluster.Edges[0];

    public static string AdminToken => "test-admin-token-0123456789abcdefghij";

    public static string SessionSecret => "test-secret-0123456789abcdef0123456789abcdef";

    public async Task InitializeAsync()
    {
        Upstream = await TestUpstream.StartAsync();
        var closedPort = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        Cluster = await LocalCluster.StartAsync(
            $$"""
            upstreams:
              echo: { destinations: ["{{Upstream.Address}}"] }
              down: { destinations: ["http://127.0.0.1:{{closedPort}}"] }
            routes:
              - { id: echo, path: "/api/{**rest}", upstream: echo }
              - { id: down, path: "/down/{**rest}", upstream: down }
            """,
            silos: 2,
            edges: 1);
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Upstream.DisposeAsync();
    }

    /// <summary>Polls a node's <c>/metrics</c> until the text satisfies the condition; returns the last scrape either way.</summary>
    public static async Task<string> ScrapeUntilAsync(ClusterNode node, Func<string, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var text = string.Empty;
        while (DateTime.UtcNow < deadline)
        {
            text = await node.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            if (condition(text))
            {
                return text;
            }

            await Task.Delay(250);
        }

        return text;
    }
}
