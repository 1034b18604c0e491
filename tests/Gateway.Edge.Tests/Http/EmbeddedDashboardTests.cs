using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Edge.Tests.Routing;
using Gateway.Hosting.Http;

namespace Gateway.Edge.Tests.Http;

/// <summary>The embedded edge's dashboard and admin endpoints behind <c>ADMIN_TOKEN</c>, and the limit on failed attempts.</summary>
public sealed class EmbeddedDashboardTests
{
    private const string AdminToken = "dashboard-test-admin-token-0123456789";
    private const string Yaml = """
        upstreams: { a: { destinations: ["http://127.0.0.1:1"] } }
        routes: [ { id: a, path: "/api/{**rest}", upstream: a } ]
        """;

    [Fact]
    public async Task Get_DashboardWithAdminTokenSet_Returns401WithoutTheTokenAnd200WithIt()
    {
        await using var edge = await TestEdge.StartAsync(Yaml, $"--ADMIN_TOKEN={AdminToken}");

        using var anonymous = await edge.Client.GetAsync(new Uri("/dashboard/", UriKind.Relative));
        using var wrong = await edge.Client.SendAsync(Get("/dashboard/", Basic("wrong-" + AdminToken)));
        using var authorized = await edge.Client.SendAsync(Get("/dashboard/", Basic(AdminToken)));

        await ProxyRoutingTests.AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized);
        Assert.Contains(anonymous.Headers.WwwAuthenticate, value => value.Scheme == "Basic");
        await ProxyRoutingTests.AssertProblemAsync(wrong, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
    }

    [Fact]
    public async Task Get_DashboardWithoutAdminToken_StaysOpenInEmbeddedMode()
    {
        await using var edge = await TestEdge.StartAsync(Yaml);

        using var response = await edge.Client.GetAsync(new Uri("/dashboard/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Get_AdminAfterTooManyFailedAttempts_Returns429WithRetryAfterEvenWithTheRightToken()
    {
        await using var edge = await TestEdge.StartAsync(Yaml, $"--ADMIN_TOKEN={AdminToken}");
        using var before = await edge.Client.SendAsync(Get("/dashboard/", Basic(AdminToken)));
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        for (var i = 0; i < AdminAttemptLimiter.MaxFailures; i++)
        {
            // Failures on any admin endpoint count together: the dashboard and /admin/*.
            using var failed = await edge.Client.SendAsync(Get(i % 2 == 0 ? "/dashboard/" : "/admin/clients/x", new AuthenticationHeaderValue("Bearer", $"guess-{i}")));
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        using var blocked = await edge.Client.SendAsync(Get("/admin/clients/x", new AuthenticationHeaderValue("Bearer", AdminToken)));
        using var blockedDashboard = await edge.Client.SendAsync(Get("/dashboard/", Basic(AdminToken)));

        await ProxyRoutingTests.AssertProblemAsync(blocked, HttpStatusCode.TooManyRequests);
        var retryAfter = blocked.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), AdminAttemptLimiter.Window);
        Assert.Equal(HttpStatusCode.TooManyRequests, blockedDashboard.StatusCode);
    }

    private static HttpRequestMessage Get(string path, AuthenticationHeaderValue authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = authorization;
        return request;
    }

    private static AuthenticationHeaderValue Basic(string token) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + token)));
}
