using System.Net;
using Gateway.Edge.Tests.Infrastructure;

namespace Gateway.Edge.Tests.Routing;

public sealed class HealthCheckRoutingTests
{
    [Fact]
    public async Task Get_OnlyDestinationFailsActiveHealthCheck_Returns503Problem()
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.HealthStatus = 500;
        await using var edge = await TestEdge.StartAsync($$"""
            upstreams:
              sick: { destinations: ["{{upstream.Address}}"], health_check: { path: /health, interval: 200ms, timeout: 1s } }
            routes:
              - { id: sick, path: "/{**rest}", upstream: sick }
            """);

        await Eventually.UntilAsync(
            async () =>
            {
                using var response = await edge.Client.GetAsync(new Uri("/x", UriKind.Relative));
                if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                {
                    return false;
                }

                await ProxyRoutingTests.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
                return true;
            },
            TimeSpan.FromSeconds(15),
            "the edge answering 503 once the only destination's health check fails");
    }
}
