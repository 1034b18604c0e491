using System.Net;
using System.Net.Http.Headers;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Edge.Tests.Routing;

namespace Gateway.Edge.Tests.Http;

/// <summary>
/// An edge with <c>MANAGEMENT_URLS</c>: <c>/metrics</c>, <c>/admin/*</c> and the dashboard answer only on the management
/// listener, proxy routes and <c>/auth/*</c> only on the traffic listener, <c>/health/*</c> on both. The proxy route is a
/// catch-all, so a management path on the traffic listener would reach the upstream if the gateway let YARP have it.
/// </summary>
public sealed class ManagementListenerTests(ManagementListenerTests.Fixture edge) : IClassFixture<ManagementListenerTests.Fixture>
{
    public const string AdminToken = "management-test-admin-token-0123456789";

    [Theory]
    [InlineData("/metrics")]
    [InlineData("/admin/clients/203.0.113.7")]
    [InlineData("/dashboard/")]
    public async Task Get_ManagementPathOnTrafficListener_Returns404ProblemAndNeverReachesTheUpstream(string path)
    {
        using var response = await edge.Traffic.SendAsync(Request(HttpMethod.Get, path, AdminToken));

        await ProxyRoutingTests.AssertProblemAsync(response, HttpStatusCode.NotFound);
        Assert.DoesNotContain(edge.Upstream.Received, headers => headers["X-Probe-Path"] == path);
    }

    [Fact]
    public async Task Delete_UserSessionsOnTrafficListener_Returns404Problem()
    {
        using var response = await edge.Traffic.SendAsync(Request(HttpMethod.Delete, "/admin/users/bob/sessions", AdminToken));

        await ProxyRoutingTests.AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Get_MetricsOnTrafficListenerWithManagementHostHeader_Returns404Problem()
    {
        // The listener is the connection's local port, not what the client writes in Host.
        using var request = Request(HttpMethod.Get, "/metrics", token: null);
        request.Headers.Host = $"127.0.0.1:{edge.ManagementPort}";

        using var response = await edge.Traffic.SendAsync(request);

        await ProxyRoutingTests.AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Get_MetricsOnManagementListener_ReturnsPrometheusTextWithoutCountingScrapesOrProbes()
    {
        (await edge.Management.GetAsync(new Uri("/health/live", UriKind.Relative))).Dispose();
        (await edge.Management.GetAsync(new Uri("/metrics", UriKind.Relative))).Dispose();
        (await edge.Traffic.GetAsync(new Uri("/api/counted", UriKind.Relative))).Dispose();

        using var response = await edge.Management.GetAsync(new Uri("/metrics", UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("gateway_requests_total{", text, StringComparison.Ordinal);
        Assert.DoesNotContain("route=\"metrics\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("route=\"health\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_AdminOnManagementListener_Returns401WithoutTokenAnd200WithIt()
    {
        using var anonymous = await edge.Management.SendAsync(Request(HttpMethod.Get, "/admin/clients/203.0.113.8", token: null));
        using var authorized = await edge.Management.SendAsync(Request(HttpMethod.Get, "/admin/clients/203.0.113.8", AdminToken));

        await ProxyRoutingTests.AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
        Assert.Contains("ip:203.0.113.8", await authorized.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_DashboardOnManagementListener_Returns200WithToken()
    {
        using var response = await edge.Management.SendAsync(Request(HttpMethod.Get, "/dashboard/", AdminToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Get_HealthOnEitherListener_AnswersTheSame(string path)
    {
        using var traffic = await edge.Traffic.GetAsync(new Uri(path, UriKind.Relative));
        using var management = await edge.Management.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, traffic.StatusCode);
        Assert.Equal(HttpStatusCode.OK, management.StatusCode);
    }

    [Theory]
    [InlineData("/api/only-on-traffic")]
    [InlineData("/auth/session")]
    [InlineData("/")]
    public async Task Get_TrafficPathOnManagementListener_Returns404Problem(string path)
    {
        using var response = await edge.Management.SendAsync(Request(HttpMethod.Get, path, token: null));

        await ProxyRoutingTests.AssertProblemAsync(response, HttpStatusCode.NotFound);
        Assert.DoesNotContain(edge.Upstream.Received, headers => headers["X-Probe-Path"] == path);
    }

    [Fact]
    public async Task Get_ProxyRouteOnTrafficListener_ReachesTheUpstream()
    {
        using var response = await edge.Traffic.SendAsync(Request(HttpMethod.Get, "/api/items", token: null));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(edge.Upstream.Received, headers => headers["X-Probe-Path"] == "/api/items");
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string? token)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Probe-Path", path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    /// <summary>One embedded edge for the class: a catch-all route, an admin token and a management listener.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        private TestEdge _edge = null!;

        public TestUpstream Upstream { get; private set; } = null!;

        public int ManagementPort { get; } = FreePort.Next();

        public HttpClient Traffic => _edge.Client;

        public HttpClient Management { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Upstream = await TestUpstream.StartAsync();
            _edge = await TestEdge.StartAsync(
                $$"""
                upstreams: { echo: { destinations: ["{{Upstream.Address}}"] } }
                routes: [ { id: everything, path: "/{**rest}", upstream: echo, ratelimit: off } ]
                """,
                $"--MANAGEMENT_URLS=http://127.0.0.1:{ManagementPort}",
                $"--ADMIN_TOKEN={AdminToken}");
            Management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ManagementPort}"), Timeout = TimeSpan.FromSeconds(30) };
        }

        public async Task DisposeAsync()
        {
            Management.Dispose();
            await _edge.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }
}
