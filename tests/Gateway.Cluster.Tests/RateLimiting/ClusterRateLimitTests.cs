using System.Diagnostics;
using System.Net;
using Gateway.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.Cluster.Tests.RateLimiting;

/// <summary>3 edges and 2 silos over a real redis-server; one client round-robined over the edges far above its limit.</summary>
/// <remarks>
/// The cases share one cluster: each writes its gateway.yml (with a route or a policy of its own, so the test knows
/// when the edges have it in force) and limits a client of its own. Freezing the silos runs last (the tests run in the
/// order of their names): it resumes them, but no measured load run starts on a cluster just woken from a freeze.
/// </remarks>
[TestCaseOrderer(ByMethodNameOrderer.TypeName, ByMethodNameOrderer.AssemblyName)]
public sealed class ClusterRateLimitTests(ClusterRateLimitTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<ClusterRateLimitTests.Fixture>
{
    private const int Requests = 40;
    private const int Burst = 20;

    [Theory]
    [InlineData("exact", 0.0, "198.51.100.10")]
    [InlineData("fast", 0.2, "198.51.100.11")]
    public async Task Get_OneClientOverAllEdges_AdmittedWithinBoundAndAtLeastNinetyPercent(string mode, double extraSeconds, string client)
    {
        var cluster = fixture.Cluster;
        await File.WriteAllTextAsync(cluster.ConfigPath, Yaml(fixture.Upstream, mode, "closed") + $$"""

              - { id: mode-{{mode}}, path: "/mode-{{mode}}", upstream: echo, ratelimit: off }
            """);
        await Task.WhenAll(cluster.Edges.Select(edge => Eventually.UntilAsync(
            async () =>
            {
                using var response = await edge.Client.GetAsync(new Uri($"/mode-{mode}", UriKind.Relative));
                return response.StatusCode == HttpStatusCode.OK;
            },
            TimeSpan.FromSeconds(15),
            $"{edge.Process.Name} applying the gateway.yml of mode {mode}")));
        await WarmUpAsync(cluster, client);
        await Task.Delay(TimeSpan.FromSeconds(1)); // the bucket refills what the warm-up took

        var run = await LoadRun.RunAsync(cluster.Edges, [client], "/api/x", TimeSpan.FromSeconds(6), workers: 6);

        var (first, last) = run.Span(client);
        var admitted = run.Count(client, HttpStatusCode.OK);
        var bound = Burst + (Requests * (last - first + extraSeconds));
        var excess = run.MaxExcess(client, Requests, 1, Burst, extraSeconds);
        var ideal = run.IdealAdmitted(client, Requests, 1, Burst);
        output.WriteLine($"{mode}: sent {run.Shots.Count}, admitted {admitted}, 429 {run.Count(client, HttpStatusCode.TooManyRequests)}, other {run.Shots.Count - admitted - run.Count(client, HttpStatusCode.TooManyRequests)}, bound over the run {bound:F1}, an ideal limiter at the same send times {ideal}, worst window excess {excess:F2}");
        foreach (var other in run.Shots.Where(s => s.Status is not (HttpStatusCode.OK or HttpStatusCode.TooManyRequests)).GroupBy(s => (s.Status, Second: (int)s.SentAt)))
        {
            output.WriteLine($"  {other.Count()} x {(int)other.Key.Status} in second {other.Key.Second} of the run");
        }

        Assert.True(run.Shots.Count > 5 * bound, $"the client must be well above its limit: {run.Shots.Count} sent for a bound of {bound:F1}");
        Assert.True(excess <= 0, $"admitted beyond the bound by {excess:F2} in some window");
        Assert.True(admitted >= 0.9 * ideal, $"admitted {admitted} < 90% of the {ideal} an ideal limiter admits at the same send times (bound over the run {bound:F1})");
        // on_backend_failure is closed here, so a decision that missed the 50 ms budget (2 cores shared by 5 servers and
        // the load) is a 503, never an extra admission; they must stay rare.
        var unavailable = run.Count(client, HttpStatusCode.ServiceUnavailable);
        Assert.True(unavailable <= run.Shots.Count * 0.05, $"{unavailable} of {run.Shots.Count} answered 503");
        Assert.All(run.Shots, s => Assert.True(s.Status is HttpStatusCode.OK or HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable, $"status {s.Status}"));
    }

    [Fact]
    public async Task Get_SilosFrozen_OpenAdmitsAndClosedAnswers503WithinBudget()
    {
        // On the shared cluster, after the load runs: open first (a policy of its own, so the test knows when edge 0 has
        // it in force), and every silo running again at the end.
        var cluster = fixture.Cluster;
        var edge = cluster.Edges[0];
        await File.WriteAllTextAsync(cluster.ConfigPath, Yaml(fixture.Upstream, "exact", "open", requests: Requests + 2));
        await WaitForPolicyAsync(edge, $"q={Requests + 2}");
        await WarmUpAsync(cluster, "198.51.100.251");
        try
        {
            foreach (var silo in cluster.Silos)
            {
                silo.Process.Signal(ChildProcess.SigStop);
            }

            var open = await SampleAsync(edge, "198.51.100.20", count: 10);
            Assert.All(open, s => Assert.Equal(HttpStatusCode.OK, s.Status));
            var metrics = await edge.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Contains(metrics.Split('\n'), line => line.StartsWith("gateway_ratelimit_backend_failures_total", StringComparison.Ordinal) && line.Contains("outcome=\"admitted\"", StringComparison.Ordinal));

            await File.WriteAllTextAsync(cluster.ConfigPath, Yaml(fixture.Upstream, "exact", "closed", requests: Requests + 1));
            await WaitForPolicyAsync(edge, $"q={Requests + 1}");
            var closed = await SampleAsync(edge, "198.51.100.21", count: 10);
            Assert.All(closed, s => Assert.Equal(HttpStatusCode.ServiceUnavailable, s.Status));
            Assert.All(closed, s => Assert.Equal("application/problem+json", s.ContentType));

            var slowest = open.Concat(closed).Max(s => s.Elapsed);
            output.WriteLine($"slowest decision with frozen silos (whole HTTP round trip): {slowest.TotalMilliseconds:F1} ms");
            Assert.True(slowest < TimeSpan.FromMilliseconds(500), $"a request took {slowest.TotalMilliseconds} ms");
        }
        finally
        {
            foreach (var silo in cluster.Silos)
            {
                silo.Process.Signal(ChildProcess.SigCont);
            }

            // The cluster is whole again: every edge calls a grain (its readiness check does).
            await Task.WhenAll(cluster.Edges.Select(e => e.WaitReadyAsync(TimeSpan.FromSeconds(30))));
        }
    }

    /// <summary>The limited route first, the list of routes last, so that a test can append routes.</summary>
    internal static string Yaml(TestUpstream upstream, string mode, string onFailure, int requests = Requests) => $$"""
        upstreams: { echo: { destinations: ["{{upstream.Address}}"] } }
        ratelimit:
          default: { requests: {{requests}}, period: 1s, burst: {{Burst}} }
          mode: {{mode}}
          on_backend_failure: {{onFailure}}
        trusted_proxies: ["127.0.0.1/32"]
        routes:
          - { id: echo, path: "/api/{**rest}", upstream: echo }
        """;

    /// <summary>
    /// Activates the client's bucket and warms connections and code on every edge: a cold first call (activation, state
    /// read, first use of the grain on that silo) can exceed the 50 ms budget. Takes a few tokens of the client.
    /// </summary>
    internal static async Task WarmUpAsync(LocalCluster cluster, string client)
    {
        foreach (var edge in cluster.Edges)
        {
            await Eventually.UntilAsync(
                async () =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, "/api/warm-up");
                    request.Headers.Add("X-Forwarded-For", client);
                    using var response = await edge.Client.SendAsync(request);
                    return response.Headers.Contains("RateLimit");
                },
                TimeSpan.FromSeconds(20),
                $"{edge.Process.Name} deciding {client}'s warm-up request from its bucket (a RateLimit header)");
        }

        // Concurrent requests too, so the coalesced exact-mode path is not first run under the measured load.
        await Task.WhenAll(cluster.Edges.SelectMany(edge => Enumerable.Range(0, 3).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/warm-up");
            request.Headers.Add("X-Forwarded-For", client);
            using var response = await edge.Client.SendAsync(request);
        })));
    }

    private static async Task WaitForPolicyAsync(EdgeNode edge, string expected) =>
        await Eventually.UntilAsync(
            async () =>
            {
                using var response = await edge.Client.GetAsync(new Uri("/api/reload-probe", UriKind.Relative));
                return response.Headers.TryGetValues("RateLimit-Policy", out var values) ? values.Single() : "no RateLimit-Policy header";
            },
            policy => policy.Contains(expected, StringComparison.Ordinal),
            TimeSpan.FromSeconds(15),
            $"{edge.Process.Name} applying the new gateway.yml ({expected})");

    private static async Task<List<(HttpStatusCode Status, TimeSpan Elapsed, string? ContentType)>> SampleAsync(EdgeNode edge, string client, int count)
    {
        var samples = new List<(HttpStatusCode, TimeSpan, string?)>();
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/frozen");
            request.Headers.Add("X-Forwarded-For", client);
            var clock = Stopwatch.StartNew();
            using var response = await edge.Client.SendAsync(request);
            samples.Add((response.StatusCode, clock.Elapsed, response.Content.Headers.ContentType?.MediaType));
        }

        return samples;
    }

    public sealed class Fixture() : ClusterFixture(silos: 2, edges: 3)
    {
        protected override string Config(TestUpstream upstream) => Yaml(upstream, "exact", "closed");
    }
}
