using System.Net;
using System.Net.Http.Headers;
using Gateway.Edge.Tests.Infrastructure;

namespace Gateway.Edge.Tests.Management;

/// <summary>Without <c>MANAGEMENT_URLS</c> (development, tests) the traffic listener serves the management surface, as before.</summary>
public sealed class ManagementListenerUnsetTests
{
    [Fact]
    public async Task Get_ManagementSurfaceWithoutManagementUrls_IsServedOnTheTrafficListener()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var edge = await TestEdge.StartAsync(
            $$"""
            upstreams: { echo: { destinations: ["{{upstream.Address}}"] } }
            routes: [ { id: echo, path: "/api/{**rest}", upstream: echo, ratelimit: off } ]
            """,
            $"--ADMIN_TOKEN={ManagementListenerTests.AdminToken}");

        using var proxied = await edge.Client.GetAsync(new Uri("/api/x", UriKind.Relative));
        using var admin = new HttpRequestMessage(HttpMethod.Get, "/admin/clients/203.0.113.9");
        admin.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ManagementListenerTests.AdminToken);
        using var adminResponse = await edge.Client.SendAsync(admin);
        using var metrics = await edge.Client.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Contains("gateway_requests_total", await metrics.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, adminResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
    }
}
