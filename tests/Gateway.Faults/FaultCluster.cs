using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Gateway.Faults;

/// <summary>
/// The cluster every scenario runs on: a test upstream and a <see cref="LocalCluster"/> (real redis-server, silos and
/// edges on loopback) with the routes the load uses. Scenarios that kill or restart nodes leave it whole again.
/// </summary>
public sealed class FaultCluster : IAsyncDisposable
{
    /// <summary>The limit of the hot key's route: 20 per second, burst 20.</summary>
    public const long HotRequests = 20;

    /// <summary>The limit of the cold clients' route: 5 per minute, burst 5.</summary>
    public const long ColdBurst = 5;

    /// <summary>The limit of the flood's route, per client key: 10 per second, burst 10.</summary>
    public const long FloodRequests = 10;

    private FaultCluster(TestUpstream upstream, LocalCluster cluster)
    {
        Upstream = upstream;
        Cluster = cluster;
    }

    public TestUpstream Upstream { get; }

    public LocalCluster Cluster { get; }

    public IEnumerable<SiloNode> LiveSilos => Cluster.Silos.Where(s => !s.Process.HasExited);

    public IEnumerable<EdgeNode> LiveEdges => Cluster.Edges.Where(e => !e.Process.HasExited);

    public static async Task<FaultCluster> StartAsync(int silos = 2, int edges = 3)
    {
        var upstream = await TestUpstream.StartAsync();
        try
        {
            var cluster = await LocalCluster.StartAsync(Config(upstream.Address), silos, edges);
            return new FaultCluster(upstream, cluster);
        }
        catch
        {
            await upstream.DisposeAsync();
            throw;
        }
    }

    /// <summary>The fault suite's gateway.yml; <paramref name="steadyRequests"/> lets the config-reload scenario change something harmless.</summary>
    public static string Config(string upstream, long steadyRequests = 100_000) => $$"""
        upstreams: { echo: { destinations: ["{{upstream}}"] } }
        routes:
          - { id: steady, path: "/api/steady/{**rest}", upstream: echo, ratelimit: { requests: {{steadyRequests}}, period: 1s } }
          - { id: session, path: "/api/session/{**rest}", upstream: echo, auth: required, ratelimit: { requests: 100000, period: 1s } }
          - { id: hot, path: "/api/hot/{**rest}", upstream: echo, ratelimit: { requests: {{HotRequests}}, period: 1s, burst: {{HotRequests}} } }
          - { id: cold, path: "/api/cold/{**rest}", upstream: echo, ratelimit: { requests: {{ColdBurst}}, period: 60s, burst: {{ColdBurst}} } }
          - { id: flood, path: "/api/flood/{**rest}", upstream: echo, ratelimit: { requests: {{FloodRequests}}, period: 1s, burst: {{FloodRequests}} } }
          - { id: open, path: "/api/open/{**rest}", upstream: echo, ratelimit: off }
        session:
          secure_cookie: false
          login: { upstream: echo, path: /auth/verify }
        trusted_proxies: ["127.0.0.0/8"]
        """;

    /// <summary>Logs alice in through <paramref name="edge"/>; the session token, or the status when refused.</summary>
    public static async Task<(int Status, string? Token)> LoginAsync(EdgeNode edge, string forwardedFor = "198.51.100.1")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/auth/login") { Content = JsonContent.Create(new { username = "alice", password = "alice" }) };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        try
        {
            using var response = await edge.Client.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                return ((int)response.StatusCode, null);
            }

            var body = await response.Content.ReadFromJsonAsync<JsonObject>();
            return (200, (string?)body?["token"]);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return (0, null);
        }
    }

    /// <summary>A silo's resident memory from its own <c>/metrics</c>, in MiB.</summary>
    public static async Task<double> ResidentMiBAsync(ClusterNode node)
    {
        var value = await MetricAsync(node, "process_resident_memory_bytes");
        return value / (1024 * 1024);
    }

    /// <summary>The sum of every sample of <paramref name="series"/> whose labels contain <paramref name="labelFilter"/>.</summary>
    public static async Task<double> MetricAsync(ClusterNode node, string series, string labelFilter = "")
    {
        string text;
        try
        {
            text = await node.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return 0;
        }

        var sum = 0.0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series, StringComparison.Ordinal) && (line.Length == series.Length || line[series.Length] is ' ' or '{')
                && line.Contains(labelFilter, StringComparison.Ordinal))
            {
                sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    /// <summary>The sum over live edges of one outcome of <c>gateway_ratelimit_backend_failures_total</c>.</summary>
    public async Task<double> BackendFailuresAsync(string outcome)
    {
        var total = 0.0;
        foreach (var edge in LiveEdges.ToList())
        {
            total += await MetricAsync(edge, "gateway_ratelimit_backend_failures_total", $"outcome=\"{outcome}\"");
        }

        return total;
    }

    /// <summary>The exception types of the session check failures (event 40) every edge, live or gone, logged: why a session request got 503.</summary>
    public string SessionFailureCauses()
    {
        var causes = Cluster.Edges.SelectMany(e => e.Process.Output)
            .Where(line => line.Contains("\"event_id\":40", StringComparison.Ordinal) && line.Contains("\"exception\":\"", StringComparison.Ordinal))
            .Select(line => line[(line.IndexOf("\"exception\":\"", StringComparison.Ordinal) + 13)..].Split(':')[0])
            .GroupBy(type => type)
            .Select(g => $"{g.Count()}× {g.Key}")
            .ToList();
        return causes.Count == 0 ? "none logged" : string.Join(", ", causes);
    }

    /// <summary>Starts a silo and waits until it serves.</summary>
    public async Task<SiloNode> AddSiloAsync(TimeSpan timeout)
    {
        var silo = Cluster.AddSilo();
        await silo.WaitReadyAsync(timeout);
        return silo;
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
