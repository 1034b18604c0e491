using System.Net;
using Gateway.Edge.Routing;
using Gateway.Edge.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Gateway.Edge.Tests.Routing;

/// <summary>Weighted destinations and passive health through a real edge with two real upstreams.</summary>
public sealed class DestinationBalancingEdgeTests
{
    [Fact]
    public void PickDestination_Weights90And10_SplitWithin2PercentOver10000Picks()
    {
        var policy = new WeightedLoadBalancingPolicy();
        DestinationState[] destinations = [Weighted("a", 90), Weighted("b", 10)];
        var counts = new Dictionary<string, int>(StringComparer.Ordinal) { ["a"] = 0, ["b"] = 0 };

        for (var i = 0; i < 10_000; i++)
        {
            counts[policy.PickDestination(new DefaultHttpContext(), null!, destinations)!.DestinationId]++;
        }

        Assert.InRange(counts["a"], 8_800, 9_200);
        Assert.Equal(10_000, counts["a"] + counts["b"]);
    }

    /// <remarks>3,000 requests through the edge (the 10,000-pick split is counted in-process above): about 13 s here.</remarks>
    [Fact]
    public async Task Get_WeightedDestinations_SplitByWeightAndReweightOnReloadWithoutFailures()
    {
        await using var heavy = await FeatureUpstream.StartAsync(record: false);
        await using var light = await FeatureUpstream.StartAsync(record: false);
        await using var edge = await TestEdge.StartAsync(Config(heavy, 90, light, 10));

        Assert.Equal(0, await SendAsync(edge, 3_000));
        Assert.Equal(3_000, heavy.Count + light.Count);
        Assert.InRange(heavy.Count / 3_000.0, 0.87, 0.93);

        // A reload changes the weights while requests are in flight; none of them fails.
        var during = SendAsync(edge, 1_000);
        Assert.True(await edge.WriteConfigAsync(Config(heavy, 25, light, 75)));
        Assert.Equal(0, await during);
        var lightBefore = light.Count;
        Assert.Equal(0, await SendAsync(edge, 2_000));
        Assert.InRange((light.Count - lightBefore) / 2_000.0, 0.71, 0.79);
    }

    private static DestinationState Weighted(string id, int weight) =>
        new(id, new DestinationModel(new DestinationConfig
        {
            Address = $"http://{id}.invalid/",
            Metadata = new Dictionary<string, string> { [UpstreamClusters.WeightKey] = weight.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        }));

    [Fact]
    public async Task Get_FailingDestination_EjectedAfterFailuresThenReactivated()
    {
        await using var good = await FeatureUpstream.StartAsync(record: false);
        await using var bad = await FeatureUpstream.StartAsync(record: false);
        bad.Failing = true;
        await using var edge = await TestEdge.StartAsync($$"""
            upstreams:
              pool:
                destinations: ["{{good.Address}}", "{{bad.Address}}"]
                load_balancing: round_robin
                passive_health: { failures: 3, window: 30s, reactivate_after: 4s }
            routes:
              - { id: pool, path: "/{**rest}", upstream: pool, ratelimit: off }
            """);

        // Round robin: every other request reaches the failing destination until its third failure ejects it.
        await SendAsync(edge, 6);
        Assert.Equal(3, bad.Count);

        // YARP recomputes the cluster's available destinations on a thread-pool task after the health change.
        var proxy = edge.Services.GetRequiredService<IProxyStateLookup>();
        await Eventually.UntilAsync(
            () => Task.FromResult(proxy.TryGetCluster("pool", out var cluster) && cluster.DestinationsState.AvailableDestinations.Count == 1),
            TimeSpan.FromSeconds(3),
            "the failing destination out of the available destinations");
        await SendAsync(edge, 20);
        Assert.Equal(3, bad.Count);
        var scrape = await edge.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains(scrape.Split('\n'), l => l.StartsWith("gateway_upstream_destination_healthy{", StringComparison.Ordinal) && l.Contains(bad.Address, StringComparison.Ordinal) && l.EndsWith(" 0", StringComparison.Ordinal));
        using var ready = await edge.Client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        var readyBody = await ready.Content.ReadAsStringAsync();
        Assert.Contains("pool: 1/2 healthy", readyBody, StringComparison.Ordinal);
        Assert.Contains(bad.Address, readyBody, StringComparison.Ordinal);

        // Healthy again: after reactivate_after the destination is back in rotation.
        bad.Failing = false;
        await Eventually.UntilAsync(
            async () =>
            {
                await SendAsync(edge, 2);
                return bad.Count > 3;
            },
            TimeSpan.FromSeconds(10),
            "the destination taking requests again after reactivate_after");
    }

    private static string Config(FeatureUpstream a, int weightA, FeatureUpstream b, int weightB) => $$"""
        upstreams:
          split:
            destinations:
              - { url: "{{a.Address}}", weight: {{weightA}} }
              - { url: "{{b.Address}}", weight: {{weightB}} }
        routes:
          - { id: split, path: "/{**rest}", upstream: split, ratelimit: off }
        """;

    /// <summary>Sends <paramref name="count"/> GETs over 16 connections; returns how many did not answer 200.</summary>
    private static async Task<int> SendAsync(TestEdge edge, int count)
    {
        var failures = 0;
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, Math.Min(16, count)).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                using var response = await edge.Client.GetAsync(new Uri("/w", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));
        return failures;
    }
}
