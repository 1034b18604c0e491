using System.Diagnostics;
using System.Globalization;
using System.Net;
using Xunit.Abstractions;

namespace Gateway.Cluster.Tests.RateLimiting;

/// <summary>
/// A flood of distinct client keys (one X-Forwarded-For each) through a real edge and silo over redis-server: the edge's
/// per-bucket state stays bounded, memory is reported, and a real client's limit stays exact meanwhile.
/// </summary>
public sealed class ClientKeyFloodTests(ITestOutputHelper output)
{
    /// <summary>
    /// Distinct flooding keys, each sent twice (admitted, then denied and so cached). 100k keys take about four minutes on
    /// a two-core machine (every key activates a bucket grain), so CI floods with 12k: enough for the edge's deny cache
    /// to pass the 10k entries from which it sweeps on every denial, in about half a minute. Set
    /// <c>GATEWAY_FLOOD_KEYS=100000</c> for the full measurement. The deny cache's cap itself is covered by DenyCacheTests.
    /// </summary>
    private static readonly int FloodKeys =
        int.TryParse(Environment.GetEnvironmentVariable("GATEWAY_FLOOD_KEYS"), NumberStyles.None, CultureInfo.InvariantCulture, out var keys) && keys >= 1000 ? keys : 12_000;

    private const int Workers = 24;

    private const int RealClientRequests = 20;

    private const int RealClientBurst = 10;

    [Fact]
    public async Task Get_FloodOfDistinctClientKeys_EdgeStateBoundedAndRealClientLimitExact()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var cluster = await LocalCluster.StartAsync($$"""
            upstreams: { echo: { destinations: ["{{upstream.Address}}"] } }
            routes:
              - { id: flood, path: "/flood/{**rest}", upstream: echo, ratelimit: { requests: 1, period: 3600s, burst: 1 } }
              - { id: echo, path: "/api/{**rest}", upstream: echo }
            ratelimit:
              default: { requests: {{RealClientBurst}}, period: 3600s, burst: {{RealClientBurst}} }
              mode: exact
              on_backend_failure: closed
            trusted_proxies: ["127.0.0.0/8"]
            """, silos: 1, edges: 1);
        var edge = cluster.Edges[0];
        var silo = cluster.Silos[0];
        await ClusterRateLimitTests.WarmUpAsync(cluster, "198.51.100.200");
        var siloBefore = RssKilobytes(silo.Process.Id);
        var edgeBefore = RssKilobytes(edge.Process.Id);

        var clock = Stopwatch.StartNew();
        var next = -1;
        var floodStatuses = new int[600];
        var flood = Task.WhenAll(Enumerable.Range(0, Workers).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < FloodKeys * 2)
            {
                // Key i is sent twice, FloodKeys requests apart: the second finds the bucket empty.
                var key = index % FloodKeys;
                var address = string.Create(CultureInfo.InvariantCulture, $"10.{key >> 16 & 255}.{key >> 8 & 255}.{key & 255}");
                using var request = new HttpRequestMessage(HttpMethod.Get, "/flood/x");
                request.Headers.Add("X-Forwarded-For", address);
                using var response = await edge.Client.SendAsync(request);
                Interlocked.Increment(ref floodStatuses[(int)response.StatusCode]);
            }
        }));

        // The real client: one request each time the flood has sent another twentieth, on a policy that does not refill meanwhile.
        var real = new List<HttpStatusCode>();
        while (real.Count < RealClientRequests)
        {
            if (!flood.IsCompleted && Volatile.Read(ref next) < real.Count * (FloodKeys * 2 / RealClientRequests))
            {
                await Task.Delay(20);
                continue;
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/x");
            request.Headers.Add("X-Forwarded-For", "198.51.100.77");
            using var response = await edge.Client.SendAsync(request);
            real.Add(response.StatusCode);
        }

        await flood;
        var elapsed = clock.Elapsed;
        var entries = await EdgeEntriesAsync(edge);
        var siloAfter = RssKilobytes(silo.Process.Id);
        var edgeAfter = RssKilobytes(edge.Process.Id);

        output.WriteLine($"{FloodKeys} keys x 2 requests in {elapsed.TotalSeconds:F1} s ({FloodKeys * 2 / elapsed.TotalSeconds:F0}/s): 200 {floodStatuses[200]}, 429 {floodStatuses[429]}, 503 {floodStatuses[503]}");
        output.WriteLine($"silo RSS {siloBefore / 1024} MB -> {siloAfter / 1024} MB, edge RSS {edgeBefore / 1024} MB -> {edgeAfter / 1024} MB");
        output.WriteLine($"edge limiter entries after: deny {entries["deny"]}, lane {entries["lane"]}, lease {entries["lease"]}; real client: {string.Join(' ', real.Select(s => (int)s))}");
        Assert.Equal(FloodKeys * 2, floodStatuses.Sum());
        // Every flooding key's second request was denied and cached (unless its decision missed the budget), plus the
        // warm-up client's bucket; never more than the cap.
        Assert.InRange(entries["deny"], FloodKeys / 2, Math.Min(FloodKeys + 1, 100_000));
        Assert.InRange(entries["lane"], 0, Workers);
        Assert.Equal(0, entries["lease"]);
        var admitted = real.Count(s => s == HttpStatusCode.OK);
        var unavailable = real.Count(s => s == HttpStatusCode.ServiceUnavailable);
        Assert.All(real, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable, $"status {s}"));
        Assert.InRange(admitted, RealClientBurst - unavailable, RealClientBurst);
        Assert.True(elapsed < TimeSpan.FromSeconds(90), $"the flood took {elapsed.TotalSeconds:F0} s");
    }

    private static long RssKilobytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    private static async Task<Dictionary<string, long>> EdgeEntriesAsync(EdgeNode edge)
    {
        var text = await edge.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var entries = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n').Where(l => l.StartsWith("gateway_ratelimit_edge_entries{", StringComparison.Ordinal)))
        {
            var kind = line.Split("kind=\"")[1].Split('"')[0];
            entries[kind] = (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        }

        return entries;
    }
}
