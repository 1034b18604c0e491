using Gateway.Hosting.Configuration;

namespace Gateway.Hosting.Tests.Configuration;

public sealed class GatewayConfigParserTests
{
    /// <summary>The documented example file; the fuzz test mutates it too.</summary>
    internal const string ContractExample = """
        upstreams:
          user-service:
            destinations: ["http://127.0.0.1:5001"]
            timeout: 30s
            health_check: { path: /health, interval: 10s }
          post-service:
            destinations: ["http://127.0.0.1:5002", "http://127.0.0.1:5003"]

        routes:
          - id: users
            path: /api/users/{**rest}
            methods: [GET, POST, PUT, DELETE]
            upstream: user-service
            auth: required
            ratelimit: { requests: 10, period: 1s, burst: 5 }
          - id: posts
            path: /api/posts/{**rest}
            upstream: post-service
            auth: optional
          - id: orders-v1
            path: /api/v1/orders/{**rest}
            hosts: ["api.example.com"]
            strip_prefix: /api/v1
            request_headers:  { set: { X-Api-Version: "1" }, remove: [X-Debug] }
            response_headers: { set: { Strict-Transport-Security: "max-age=31536000" }, remove: [Server] }
            max_body: 1MB
            retries: { attempts: 2, on: [connect_failure, 502, 503] }
            cors: { origins: ["https://app.example.com"], methods: [GET, POST], headers: [Content-Type], credentials: true, max_age: 10m }
            allow: ["203.0.113.0/24"]
            deny: []
            upstream: post-service

        session:
          ttl: 30m
          cookie: gw_session
          secure_cookie: true
          login:
            upstream: user-service
            path: /auth/verify

        ratelimit:
          default: { requests: 100, period: 60s, burst: 100 }
          tiers:
            pro: { requests: 1000, period: 60s, burst: 1000 }
          mode: exact
          on_backend_failure: open

        trusted_proxies: ["10.0.0.0/8"]
        """;

    [Fact]
    public void Parse_ContractExample_ReadsEverySection()
    {
        var result = GatewayConfigParser.Parse(ContractExample);

        Assert.Empty(result.Errors);
        var config = Assert.IsType<GatewayConfig>(result.Config);
        Assert.Equal(2, config.Upstreams.Count);
        Assert.Equal(TimeSpan.FromSeconds(30), config.Upstreams["user-service"].Timeout);
        Assert.Equal(new UpstreamHealthCheck("/health", TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5)), config.Upstreams["user-service"].HealthCheck);
        Assert.Equal(2, config.Upstreams["post-service"].Destinations.Length);

        var users = config.Routes[0];
        Assert.Equal("users", users.Id);
        Assert.Equal(["GET", "POST", "PUT", "DELETE"], users.Methods.ToArray());
        Assert.Equal(AuthMode.Required, users.Auth);
        Assert.Equal(new RouteRateLimit(RouteRateLimitKind.Own, new RateLimitPolicy(10, TimeSpan.FromSeconds(1), 5)), users.RateLimit);
        Assert.Equal(AuthMode.Optional, config.Routes[1].Auth);
        Assert.Equal(RouteRateLimit.Inherit, config.Routes[1].RateLimit);

        Assert.Equal(new SessionConfig(TimeSpan.FromMinutes(30), "gw_session", true, new LoginConfig("user-service", "/auth/verify"), TimeSpan.FromHours(24)), config.Session);
        Assert.Equal(new RateLimitPolicy(1000, TimeSpan.FromSeconds(60), 1000), config.RateLimit.Tiers["pro"]);
        Assert.Equal(RateLimitMode.Exact, config.RateLimit.Mode);
        Assert.Equal(BackendFailureMode.Open, config.RateLimit.OnBackendFailure);
        Assert.True(Assert.Single(config.TrustedProxies).Contains(System.Net.IPAddress.Parse("10.1.2.3")));
    }

    private const string MinimalRoutes = "upstreams: { a: { destinations: [ \"http://127.0.0.1:1\" ] } }\nroutes: [ { id: r, path: /x, upstream: a } ]\n";

    [Fact]
    public void Parse_SessionMaxLifetimeAndHostPrefixedCookie_Read()
    {
        var result = GatewayConfigParser.Parse(MinimalRoutes + "session: { ttl: 15m, max_lifetime: 8h, cookie: __Host-gw, secure_cookie: true }");

        var config = Assert.IsType<GatewayConfig>(result.Config);
        Assert.Equal(TimeSpan.FromHours(8), config.Session.MaxLifetime);
        Assert.Equal("__Host-gw", config.Session.Cookie);
    }

    [Fact]
    public void Parse_MinimalFile_AppliesDefaults()
    {
        var result = GatewayConfigParser.Parse("""
            upstreams: { a: { destinations: [ "http://127.0.0.1:1" ] } }
            routes: [ { id: r, path: "/{**rest}", upstream: a } ]
            """);

        var config = Assert.IsType<GatewayConfig>(result.Config);
        Assert.Equal(GatewayConfigParser.DefaultUpstreamTimeout, config.Upstreams["a"].Timeout);
        Assert.Null(config.Upstreams["a"].HealthCheck);
        Assert.Equal(AuthMode.None, config.Routes[0].Auth);
        Assert.True(config.Routes[0].Methods.IsEmpty);
        Assert.Equal(GatewayConfigParser.DefaultPolicy, config.RateLimit.Default);
        Assert.Equal(GatewayConfigParser.DefaultSessionTtl, config.Session.Ttl);
        Assert.Equal(TimeSpan.FromHours(24), config.Session.MaxLifetime);
        Assert.Equal("gw_session", config.Session.Cookie);
        Assert.True(config.Session.SecureCookie);
        Assert.Null(config.Session.Login);
        Assert.Empty(config.TrustedProxies);
    }

    [Theory]
    [InlineData("off")]
    [InlineData("false")]
    public void Parse_RouteRateLimitOff_IsOff(string value)
    {
        var result = GatewayConfigParser.Parse($$"""
            upstreams: { a: { destinations: [ "http://127.0.0.1:1" ] } }
            routes: [ { id: r, path: "/x", upstream: a, ratelimit: {{value}} } ]
            """);

        Assert.Equal(RouteRateLimit.Off, Assert.IsType<GatewayConfig>(result.Config).Routes[0].RateLimit);
    }

    [Fact]
    public void Parse_BurstOmitted_DefaultsToRequests()
    {
        var result = GatewayConfigParser.Parse("""
            upstreams: { a: { destinations: [ "http://127.0.0.1:1" ] } }
            routes: [ { id: r, path: "/x", upstream: a } ]
            ratelimit: { default: { requests: 7, period: 500ms } }
            """);

        Assert.Equal(new RateLimitPolicy(7, TimeSpan.FromMilliseconds(500), 7), Assert.IsType<GatewayConfig>(result.Config).RateLimit.Default);
    }

    [Fact]
    public void Parse_SessionTtlOverride_WinsOverFile()
    {
        var result = GatewayConfigParser.Parse(ContractExample, sessionTtlOverride: TimeSpan.FromSeconds(90));

        Assert.Equal(TimeSpan.FromSeconds(90), Assert.IsType<GatewayConfig>(result.Config).Session.Ttl);
    }

    [Fact]
    public void Parse_ManyMistakes_ReportsEveryErrorWithItsKey()
    {
        var result = GatewayConfigParser.Parse("""
            upstreams:
              a:
                destinations: ["ftp://nope", "http://127.0.0.1:1"]
                timeout: soon
            routes:
              - id: r1
                path: api/no-slash
                upstream: missing
                auth: sometimes
                methods: [GET, FETCH]
                ratelimit: { requests: 0, period: 1s }
              - id: r1
                path: /ok
                upstream: a
                colour: blue
            session:
              login: { upstream: ghost, path: verify }
            ratelimit:
              mode: sloppy
              on_backend_failure: maybe
            trusted_proxies: ["10.0.0.0/33"]
            """);

        Assert.Null(result.Config);
        var keys = result.Errors.Select(e => e.Key).ToHashSet();
        string[] expected =
        [
            "upstreams.a.destinations[0]", "upstreams.a.timeout", "routes[0].path", "routes[0].upstream", "routes[0].auth",
            "routes[0].methods[1]", "routes[0].ratelimit.requests", "routes[1].id", "routes[1].colour", "session.login.upstream",
            "session.login.path", "ratelimit.mode", "ratelimit.on_backend_failure", "trusted_proxies[0]",
        ];
        foreach (var key in expected)
        {
            Assert.Contains(key, keys);
        }

        Assert.All(result.Errors, e => Assert.NotNull(e.Line));
    }

    [Theory]
    [InlineData("routes: [ { id: r, path: /x, upstream: a } ]", "upstreams")]
    [InlineData("upstreams: { a: { destinations: [ \"http://127.0.0.1:1\" ] } }", "routes")]
    [InlineData("upstreams: { a: { } }\nroutes: [ { id: r, path: /x, upstream: a } ]", "upstreams.a.destinations")]
    [InlineData("upstreams: { a: { destinations: [ \"http://127.0.0.1:1\" ] } }\nroutes: [ { id: r, path: \"/{a}/{a}\", upstream: a } ]", "routes[0].path")]
    [InlineData("upstreams: [ 1, 2 ]\nroutes: [ { id: r, path: /x, upstream: a } ]", "upstreams")]
    [InlineData("key: [unclosed", "gateway.yml")]
    [InlineData(MinimalRoutes + "session: { max_lifetime: 0s }", "session.max_lifetime")]
    [InlineData(MinimalRoutes + "session: { max_lifetime: forever }", "session.max_lifetime")]
    [InlineData(MinimalRoutes + "session: { cookie: __Host-gw, secure_cookie: false }", "session.cookie")]
    public void Parse_InvalidFile_NamesTheKey(string yaml, string key)
    {
        var result = GatewayConfigParser.Parse(yaml);

        Assert.Null(result.Config);
        Assert.Contains(result.Errors, e => e.Key == key);
    }

    [Fact]
    public void Parse_ForwardClientHeaders_CanonicalNamesAnyCase()
    {
        var result = GatewayConfigParser.Parse("""
            upstreams: { a: { destinations: [ "http://127.0.0.1:1" ] } }
            routes:
              - { id: r, path: /x, upstream: a, forward_client_headers: [x-real-ip, X-HTTP-METHOD-OVERRIDE, X-Original-URL, X-Real-IP] }
              - { id: s, path: /y, upstream: a }
            """);

        var config = Assert.IsType<GatewayConfig>(result.Config);
        Assert.Equal(["X-Real-IP", "X-HTTP-Method-Override", "X-Original-URL"], config.Routes[0].ForwardClientHeaders.ToArray());
        Assert.Empty(config.Routes[1].ForwardClientHeaders);
    }

    [Theory]
    [InlineData("[X-Real-IP, X-Forwarded-For]", "routes[0].forward_client_headers[1]", "X-Forwarded-For")]
    [InlineData("[X-User-Id]", "routes[0].forward_client_headers[0]", "X-User-Id")]
    [InlineData("{ X-Real-IP: true }", "routes[0].forward_client_headers", "list")]
    public void Parse_ForwardClientHeadersNotAllowed_ErrorNamesKeyAndLine(string value, string key, string mentioned)
    {
        var result = GatewayConfigParser.Parse($$"""
            upstreams: { a: { destinations: [ "http://127.0.0.1:1" ] } }
            routes:
              - id: r
                path: /x
                upstream: a
                forward_client_headers: {{value}}
            """);

        Assert.Null(result.Config);
        var error = Assert.Single(result.Errors);
        Assert.Equal(key, error.Key);
        Assert.Equal(6, error.Line);
        Assert.Contains(mentioned, error.Message, StringComparison.Ordinal);
    }
}
