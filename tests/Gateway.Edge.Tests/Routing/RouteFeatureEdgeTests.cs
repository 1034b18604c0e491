using System.Net;
using System.Net.WebSockets;
using System.Text;
using Gateway.Edge.Tests.Infrastructure;

namespace Gateway.Edge.Tests.Routing;

/// <summary>
/// Route features through one real edge and a real upstream: path rewriting, header transforms, max_body, allow/deny,
/// CORS, retries and WebSockets. Tests of a class run one at a time; each finds its requests by a marker in the path.
/// </summary>
public sealed class RouteFeatureEdgeTests(RouteFeatureEdgeTests.Fixture fixture) : IClassFixture<RouteFeatureEdgeTests.Fixture>
{
    private readonly FeatureUpstream _upstream = fixture.Upstream;
    private readonly TestEdge _edge = fixture.Edge;

    [Theory]
    [InlineData("/api/v1/orders/a%2Fb-m1?x=1&y=%20z", "/orders/a%2Fb-m1?x=1&y=%20z")]
    [InlineData("/api/v1/orders/m2/", "/orders/m2/")]
    [InlineData("/api/v1/orders/caf%C3%A9-m3", "/orders/caf%C3%A9-m3")]
    [InlineData("/API/V1/orders/m4?q=%2F", "/orders/m4?q=%2F")]
    [InlineData("/api/v1/orders/50%25-m5", "/orders/50%25-m5")]
    [InlineData("/v2/items/x%2Fy-m6?q=1", "/inventory/x%2Fy-m6?q=1")]
    [InlineData("/v2/items/a/b/m7/", "/inventory/a/b/m7/")]
    public async Task Get_RewrittenRoute_UpstreamGetsPathEncodedOnceWithQuery(string sent, string expected)
    {
        var status = await RawHttp.GetAsync(_edge.Client.BaseAddress!, sent);

        Assert.Equal(200, status);
        var marker = expected.Split('?')[0].Split('/', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.Equal(expected, _upstream.Single(marker.Length > 0 ? marker : expected).Target);
    }

    [Theory]
    [InlineData("/api/v1/orders/../../admin-d1", "admin-d1", 404)]
    [InlineData("/api/v1/orders/%2E%2E/%2e%2e/admin-d2", "admin-d2", 404)]
    [InlineData("/api/v1/orders/..%2F..%2Fadmin-d3", "admin-d3", 400)]
    [InlineData("/api/v1/orders/x%5C..%5Cadmin-d4", "admin-d4", 400)]
    public async Task Get_DotSegments_NeverReachUpstreamOutsideThePrefix(string sent, string marker, int expected)
    {
        var status = await RawHttp.GetAsync(_edge.Client.BaseAddress!, sent);

        Assert.Equal(expected, status);
        Assert.DoesNotContain(_upstream.Received, r => r.Target.Contains(marker, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("api.example.com", 200)]
    [InlineData("example.org", 404)]
    public async Task Get_HostsMatch_OnlyListedHostsReachTheRoute(string host, int expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/hosted/x");
        request.Headers.Host = host;

        using var response = await _edge.Client.SendAsync(request);

        Assert.Equal(expected, (int)response.StatusCode);
    }

    [Fact]
    public async Task Get_HeaderRules_SetAndRemoveBothWays()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/hdr/h1");
        request.Headers.Add("X-Debug", "yes");
        request.Headers.Add("X-Api-Version", "client");
        request.Headers.Add("X-User-Id", "mallory");

        using var response = await _edge.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = _upstream.Single("/hdr/h1").Headers;
        Assert.Equal("1", received["X-Api-Version"].ToString());
        Assert.False(received.ContainsKey("X-Debug"));
        Assert.False(received.ContainsKey("X-User-Id"));
        Assert.Equal("max-age=31536000", response.Headers.GetValues("Strict-Transport-Security").Single());
        Assert.False(response.Headers.Contains("Server"));
        Assert.False(response.Headers.Contains("X-Upstream-Debug"));
    }

    [Fact]
    public async Task Post_BodyOverMaxBody_Returns413ProblemWithoutReachingUpstream()
    {
        using var sized = await _edge.Client.PostAsync(new Uri("/small/b1", UriKind.Relative), new ByteArrayContent(new byte[2048]));
        using var chunked = await _edge.Client.PostAsync(new Uri("/small/b2", UriKind.Relative), new StreamContent(new MemoryStream(new byte[4096])));
        using var fits = await _edge.Client.PostAsync(new Uri("/small/b3", UriKind.Relative), new ByteArrayContent(new byte[512]));

        await ProxyRoutingTests.AssertProblemAsync(sized, HttpStatusCode.RequestEntityTooLarge);
        await ProxyRoutingTests.AssertProblemAsync(chunked, HttpStatusCode.RequestEntityTooLarge);
        Assert.DoesNotContain(_upstream.Received, r => r.Target.Contains("/small/b1", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
    }

    [Theory]
    [InlineData("/private/p1", HttpStatusCode.Forbidden)]
    [InlineData("/blocked/p2", HttpStatusCode.Forbidden)]
    [InlineData("/lan/p3", HttpStatusCode.OK)]
    public async Task Get_ClientIpLists_RefuseWith403Problem(string path, HttpStatusCode expected)
    {
        using var response = await _edge.Client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
        {
            await ProxyRoutingTests.AssertProblemAsync(response, HttpStatusCode.Forbidden);
            Assert.DoesNotContain(_upstream.Received, r => r.Target == path);
        }
    }

    [Fact]
    public async Task Options_CorsPreflight_AnsweredByGatewayWith204()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/cors/c1");
        request.Headers.Add("Origin", "https://app.example.com");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "Content-Type");

        using var response = await _edge.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("https://app.example.com", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("true", response.Headers.GetValues("Access-Control-Allow-Credentials").Single());
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        Assert.Equal("600", response.Headers.GetValues("Access-Control-Max-Age").Single());
        Assert.DoesNotContain(_upstream.Received, r => r.Target.Contains("/cors/c1", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("https://app.example.com", true)]
    [InlineData("https://evil.example.com", false)]
    public async Task Get_CorsActualRequest_AllowHeadersOnlyForAllowedOrigin(string origin, bool allowed)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/cors/c2");
        request.Headers.Add("Origin", origin);

        using var response = await _edge.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(allowed, response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Get_RetryOnStatus_TriesAgainAndCountsRetries()
    {
        var before = await RetriesAsync("up");

        using var get = await _edge.Client.GetAsync(new Uri("/retry/r1?status=503", UriKind.Relative));
        using var post = await _edge.Client.PostAsync(new Uri("/retry/r2?status=503", UriKind.Relative), new StringContent("x"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, get.StatusCode);
        Assert.Equal(3, _upstream.Received.Count(r => r.Target.Contains("/retry/r1", StringComparison.Ordinal)));
        Assert.Equal(1, _upstream.Received.Count(r => r.Target.Contains("/retry/r2", StringComparison.Ordinal)));
        await Eventually.UntilAsync(async () => await RetriesAsync("up") == before + 2, TimeSpan.FromSeconds(5), "two retries counted for upstream up");
    }

    [Fact]
    public async Task Get_RetryOnConnectFailure_SecondDestinationAnswers()
    {
        var before = await RetriesAsync("half-dead");

        using var response = await _edge.Client.GetAsync(new Uri("/connect/r3", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_upstream.Received, r => r.Target.Contains("/connect/r3", StringComparison.Ordinal));
        await Eventually.UntilAsync(async () => await RetriesAsync("half-dead") == before + 1, TimeSpan.FromSeconds(5), "one retry counted for upstream half-dead");
    }

    [Fact]
    public async Task WebSocket_Echo_PassesThroughTheEdge()
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_edge.Client.BaseAddress!.Port}/ws/echo"), CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes("hello over the edge"), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[256];
        var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        Assert.Equal("hello over the edge", Encoding.UTF8.GetString(buffer, 0, received.Count));
    }

    [Fact]
    public async Task WebSocket_UpgradeOnRequiredAuthWithoutSession_Refused401()
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_edge.Client.BaseAddress!.Port}/ws-auth/echo"), CancellationToken.None));

        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
    }

    [Fact]
    public async Task WebSocket_LimitedClientUpgrade_Gets429()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            try
            {
                await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_edge.Client.BaseAddress!.Port}/ws-limited/echo"), CancellationToken.None);
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
            catch (WebSocketException)
            {
            }

            statuses.Add(socket.HttpStatusCode);
        }

        Assert.Equal(HttpStatusCode.SwitchingProtocols, statuses[0]);
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
    }

    private async Task<long> RetriesAsync(string upstream)
    {
        var scrape = await _edge.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var line = scrape.Split('\n').FirstOrDefault(l => l.StartsWith("gateway_upstream_retries_total{", StringComparison.Ordinal) && l.Contains($"upstream=\"{upstream}\"", StringComparison.Ordinal));
        return line is null ? 0 : (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    public sealed class Fixture : IAsyncLifetime
    {
        internal FeatureUpstream Upstream { get; private set; } = null!;

        internal TestEdge Edge { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Upstream = await FeatureUpstream.StartAsync();
            var dead = $"http://127.0.0.1:{FreePort.Next()}";
            Edge = await TestEdge.StartAsync($$"""
                upstreams:
                  up: { destinations: ["{{Upstream.Address}}"] }
                  half-dead: { destinations: ["{{dead}}", "{{Upstream.Address}}"], load_balancing: first }
                routes:
                  - { id: strip, path: "/api/v1/orders/{**rest}", strip_prefix: /api/v1, upstream: up }
                  - { id: rewrite, path: "/v2/items/{**rest}", rewrite: "/inventory/{**rest}", upstream: up }
                  - id: headers
                    path: /hdr/{**rest}
                    request_headers: { set: { X-Api-Version: "1" }, remove: [X-Debug] }
                    response_headers: { set: { Strict-Transport-Security: "max-age=31536000" }, remove: [Server, X-Upstream-Debug] }
                    upstream: up
                  - { id: small, path: "/small/{**rest}", max_body: 1KB, upstream: up }
                  - { id: private, path: "/private/{**rest}", allow: ["203.0.113.0/24"], upstream: up }
                  - { id: blocked, path: "/blocked/{**rest}", allow: ["127.0.0.0/8"], deny: ["127.0.0.1"], upstream: up }
                  - { id: lan, path: "/lan/{**rest}", allow: ["127.0.0.1", "10.0.0.0/8"], upstream: up }
                  - id: cors
                    path: /cors/{**rest}
                    methods: [GET, POST]
                    cors: { origins: ["https://app.example.com"], methods: [GET, POST], headers: [Content-Type], credentials: true, max_age: 10m }
                    upstream: up
                  - { id: retry, path: "/retry/{**rest}", retries: { attempts: 2, on: [503] }, upstream: up }
                  - { id: connect, path: "/connect/{**rest}", retries: { attempts: 1, on: [connect_failure] }, upstream: half-dead }
                  - { id: ws-auth, path: "/ws-auth/{**rest}", rewrite: "/ws/{**rest}", auth: required, upstream: up }
                  - { id: ws-limited, path: "/ws-limited/{**rest}", rewrite: "/ws/{**rest}", ratelimit: { requests: 1, period: 60s, burst: 1 }, upstream: up }
                  - { id: ws, path: "/ws/{**rest}", upstream: up }
                  - { id: hosted, path: "/hosted/{**rest}", hosts: ["*.example.com"], upstream: up }
                ratelimit:
                  default: { requests: 100000, period: 1s }
                """);
        }

        public async Task DisposeAsync()
        {
            await Edge.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }
}
