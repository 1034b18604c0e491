using System.Globalization;
using Gateway.Testing;

namespace Gateway.Benchmarks;

/// <summary>
/// What a route's transforms cost: one silo and one edge as processes, the same upstream behind a plain route (the
/// baseline) and a route with <c>strip_prefix</c>, request header set and remove, and response header set and remove.
/// Requests are timed one by one in pairs (the plain one and the transformed one back to back), in both orders, so that
/// drift and the order within a pair hit both routes alike; the ratio of the medians is the transforms' cost.
/// </summary>
internal static class TransformRun
{
    private const int Pairs = 5_000;

    public static async Task<int> RunAsync()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var cluster = await LocalCluster.StartAsync(
            $$"""
            upstreams: { app: { destinations: ["{{upstream.Address}}"] } }
            routes:
              - { id: plain, path: "/plain/{**rest}", upstream: app, ratelimit: off }
              - id: transformed
                path: /api/v1/orders/{**rest}
                strip_prefix: /api/v1
                request_headers: { set: { X-Api-Version: "1" }, remove: [X-Debug] }
                response_headers: { set: { Strict-Transport-Security: "max-age=31536000" }, remove: [Server] }
                upstream: app
                ratelimit: off
            """,
            silos: 1,
            edges: 1);
        var http = cluster.Edges[0].Client;
        for (var i = 0; i < 3_000; i++)
        {
            await GetAsync(http, "/plain/warm");
            await GetAsync(http, "/api/v1/orders/warm");
        }

        Console.WriteLine(FormattableString.Invariant($"== route transforms, edge + silo processes, {Pairs} pairs back to back in each order, every request timed =="));
        var (plainFirst, transformedSecond) = await SessionRun.PairsAsync(Pairs, TimeSpan.Zero, _ => GetAsync(http, "/plain/x?q=1"), _ => GetAsync(http, "/api/v1/orders/x?q=1"));
        var (transformedFirst, plainSecond) = await SessionRun.PairsAsync(Pairs, TimeSpan.Zero, _ => GetAsync(http, "/api/v1/orders/x?q=1"), _ => GetAsync(http, "/plain/x?q=1"));
        double[] plain = [(plainFirst[0] + plainSecond[0]) / 2, (plainFirst[1] + plainSecond[1]) / 2];
        double[] transformed = [(transformedFirst[0] + transformedSecond[0]) / 2, (transformedFirst[1] + transformedSecond[1]) / 2];
        SessionRun.Print("plain route (baseline)", plain, plain);
        SessionRun.Print("route with transforms", transformed, plain);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"transforms / plain, p50: {transformed[0] / plain[0]:F3} (each order: {transformedSecond[0] / plainFirst[0]:F3}, {transformedFirst[0] / plainSecond[0]:F3})"));
        return 0;
    }

    private static async Task GetAsync(HttpClient http, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("X-Debug", "1");
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }
}
