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

        var status = HttpStatusCode.OK;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline && status != HttpStatusCode.ServiceUnavailable)
        {
            using var response = await edge.Client.GetAsync(new Uri("/x", UriKind.Relative));
            status = response.StatusCode;
            if (status == HttpStatusCode.ServiceUnavailable)
            {
                await ProxyRoutingTests.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            }
            else
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
    }
}
