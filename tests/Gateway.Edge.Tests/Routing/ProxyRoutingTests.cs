using System.Net;
using System.Text.Json;
using Gateway.Edge.Tests.Infrastructure;

namespace Gateway.Edge.Tests.Routing;

/// <remarks>The tests share one edge: none changes its configuration, and each finds its own request by path or correlation id.</remarks>
public sealed class ProxyRoutingTests(ProxyRoutingTests.Fixture fixture) : IClassFixture<ProxyRoutingTests.Fixture>
{
    private readonly TestUpstream _upstream = fixture.Upstream;
    private readonly TestEdge _edge = fixture.Edge;

    [Fact]
    public async Task Get_MatchingRoute_ForwardsToUpstream()
    {
        using var response = await _edge.Client.GetAsync(new Uri("/api/echo/items/42?x=1", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("/api/echo/items/42", body.RootElement.GetProperty("path").GetString());
        Assert.Equal(_upstream.Port, body.RootElement.GetProperty("port").GetInt32());
    }

    [Fact]
    public async Task Get_ClientCorrelationId_IsReturnedAndForwardedWithTraceparent()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/echo/correlated");
        request.Headers.Add("X-Correlation-ID", "client-id-1");

        using var response = await _edge.Client.SendAsync(request);

        Assert.Equal("client-id-1", response.Headers.GetValues("X-Correlation-ID").Single());
        var seen = _upstream.Received.Last(h => h["X-Correlation-ID"] == "client-id-1");
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", seen["traceparent"].ToString());
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("bad;chars")]
    public async Task Get_InvalidCorrelationId_IsReplaced(string offered)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/echo/x");
        request.Headers.TryAddWithoutValidation("X-Correlation-ID", offered);

        using var response = await _edge.Client.SendAsync(request);

        var returned = response.Headers.GetValues("X-Correlation-ID").Single();
        Assert.NotEqual(offered, returned);
        Assert.Matches("^[A-Za-z0-9._-]{1,128}$", returned);
    }

    [Fact]
    public async Task Get_NoRoute_Returns404ProblemWithCorrelationId()
    {
        using var response = await _edge.Client.GetAsync(new Uri("/nowhere", UriKind.Relative));

        var problem = await AssertProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Equal(response.Headers.GetValues("X-Correlation-ID").Single(), problem.GetProperty("correlation_id").GetString());
    }

    [Fact]
    public async Task Post_MethodNotInRoute_Returns404Problem()
    {
        // A route's methods are part of its match, as in Kong and Envoy: no route matches, so 404.
        using var response = await _edge.Client.PostAsync(new Uri("/api/readonly/x", UriKind.Relative), new StringContent("{}"));

        await AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Get_UpstreamUnreachable_Returns502Problem()
    {
        using var response = await _edge.Client.GetAsync(new Uri("/api/down/x", UriKind.Relative));

        await AssertProblemAsync(response, HttpStatusCode.BadGateway);
    }

    [Fact]
    public async Task Get_UpstreamUnreachableOnLimitedRoute_ProblemKeepsRateLimitHeaders()
    {
        using var response = await _edge.Client.GetAsync(new Uri("/api/down/y", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("\"default\";q=100;w=60", response.Headers.GetValues("RateLimit-Policy").Single());
        Assert.StartsWith("\"default\";r=", response.Headers.GetValues("RateLimit").Single(), StringComparison.Ordinal);
        Assert.True(response.Headers.Contains("X-Correlation-ID"));
    }

    [Fact]
    public async Task Get_UpstreamSlowerThanTimeout_Returns504Problem()
    {
        using var response = await _edge.Client.GetAsync(new Uri("/api/echo/slow?delay_ms=3000", UriKind.Relative));

        await AssertProblemAsync(response, HttpStatusCode.GatewayTimeout);
    }

    [Fact]
    public async Task Get_UpstreamErrorStatus_PassesThroughUntouched()
    {
        using var response = await _edge.Client.GetAsync(new Uri("/api/echo/x?status=418", UriKind.Relative));

        Assert.Equal((HttpStatusCode)418, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }

    internal static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement.Clone();
        Assert.Equal((int)status, root.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("correlation_id").GetString()));
        return root;
    }

    public sealed class Fixture : EdgeFixture
    {
        protected override string Config(TestUpstream upstream) => $$"""
            upstreams:
              echo: { destinations: ["{{upstream.Address}}"], timeout: 1s }
              down: { destinations: ["http://127.0.0.1:{{FreePort.Next()}}"] }
            routes:
              - { id: echo, path: "/api/echo/{**rest}", upstream: echo }
              - { id: readonly, path: "/api/readonly/{**rest}", methods: [GET], upstream: echo }
              - { id: down, path: "/api/down/{**rest}", upstream: down }
            """;

        /// <summary>The echo route has a 1 s timeout: its first call (cold connection and code) must not be a test's.</summary>
        private protected override Task WarmUpAsync(TestEdge edge) =>
            Eventually.UntilAsync(
                async () =>
                {
                    using var response = await edge.Client.GetAsync(new Uri("/api/echo/warm-up", UriKind.Relative));
                    return response.StatusCode;
                },
                status => status == HttpStatusCode.OK,
                TimeSpan.FromSeconds(30),
                "a first proxied call answering 200");
    }
}
