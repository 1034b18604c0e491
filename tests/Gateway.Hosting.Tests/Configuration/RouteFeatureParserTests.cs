using System.Net;
using Gateway.Hosting.Configuration;

namespace Gateway.Hosting.Tests.Configuration;

public sealed class RouteFeatureParserTests
{
    /// <summary>The and the contract's example of every route and upstream feature.</summary>
    internal const string FeatureExample = """
        upstreams:
          post-service:
            destinations:
              - { url: "http://10.0.0.5:8080", weight: 90 }
              - { url: "http://10.0.0.6:8080", weight: 10 }
            load_balancing: power_of_two
            passive_health: { failures: 5, window: 10s, reactivate_after: 30s }
            http2: false
          grpc-service:
            destinations: ["http://10.0.0.7:8080"]
            load_balancing: round_robin
            http2: true

        routes:
          - id: orders-v1
            path: /api/v1/orders/{**rest}
            hosts: ["api.example.com", "*.example.com"]
            strip_prefix: /api/v1
            request_headers:  { set: { X-Api-Version: "1" }, remove: [X-Debug] }
            response_headers: { set: { Strict-Transport-Security: "max-age=31536000" }, remove: [Server] }
            max_body: 1MB
            retries: { attempts: 2, on: [connect_failure, 502, 503] }
            cors: { origins: ["https://app.example.com"], methods: [GET, POST], headers: [Content-Type, Authorization], credentials: true, max_age: 10m }
            allow: ["203.0.113.0/24"]
            deny: []
            upstream: post-service
          - id: orders-v2
            path: /api/v2/orders/{**rest}
            rewrite: /orders/{**rest}
            upstream: grpc-service
        """;

    [Fact]
    public void Parse_FeatureExample_ReadsEveryFeature()
    {
        var result = GatewayConfigParser.Parse(FeatureExample);

        Assert.Empty(result.Errors);
        var config = result.Config!;
        var posts = config.Upstreams["post-service"];
        Assert.Equal([90, 10], posts.Weights.ToArray());
        Assert.True(posts.IsWeighted);
        Assert.Equal(new PassiveHealthConfig(5, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)), posts.PassiveHealth);
        Assert.False(posts.Http2);
        Assert.True(config.Upstreams["grpc-service"].Http2);
        Assert.Equal(LoadBalancingMode.RoundRobin, config.Upstreams["grpc-service"].LoadBalancing);

        var orders = config.Routes[0].Features;
        Assert.Equal(["api.example.com", "*.example.com"], orders.Hosts.ToArray());
        Assert.Equal("/api/v1", orders.StripPrefix);
        Assert.Equal([new KeyValuePair<string, string>("X-Api-Version", "1")], orders.RequestHeaders.Set.ToArray());
        Assert.Equal(["X-Debug"], orders.RequestHeaders.Remove.ToArray());
        Assert.Equal(["Server"], orders.ResponseHeaders.Remove.ToArray());
        Assert.Equal(1024 * 1024, orders.MaxBody);
        Assert.Equal(2, orders.Retries!.Attempts);
        Assert.True(orders.Retries.OnConnectFailure);
        Assert.Equal([502, 503], orders.Retries.Statuses.ToArray());
        Assert.True(orders.Cors!.Credentials);
        Assert.Equal(TimeSpan.FromMinutes(10), orders.Cors.MaxAge);
        Assert.Equal([IPNetwork.Parse("203.0.113.0/24")], orders.Allow.ToArray());
        Assert.Empty(orders.Deny);
        Assert.Equal("/orders/{**rest}", config.Routes[1].Features.Rewrite);
        Assert.Equal(RouteFeatures.DefaultMaxBody, config.Routes[1].Features.MaxBody);
    }

    [Theory]
    [InlineData("bogus: 1", "routes[0].bogus", 7, "unknown key")]
    [InlineData("allow: [\"10.0.0.0/33\"]", "routes[0].allow[0]", 7, "CIDR")]
    [InlineData("deny: [\"not-an-ip\"]", "routes[0].deny[0]", 7, "CIDR")]
    [InlineData("strip_prefix: /api\n    rewrite: /x/{**rest}", "routes[0].rewrite", 8, "strip_prefix")]
    [InlineData("strip_prefix: /other", "routes[0].strip_prefix", 7, "leading part")]
    [InlineData("rewrite: /x/{id}", "routes[0].rewrite", 7, "not a parameter")]
    [InlineData("request_headers: { set: { X-User-Id: admin } }", "routes[0].request_headers.set.X-User-Id", 7, "X-User-*")]
    [InlineData("request_headers: { set: { x_user_roles: admin } }", "routes[0].request_headers.set.x_user_roles", 7, "X-User-*")]
    [InlineData("max_body: 1TB", "routes[0].max_body", 7, "size")]
    [InlineData("retries: { attempts: 2, on: [404] }", "routes[0].retries.on[0]", 7, "connect_failure")]
    [InlineData("cors: { origins: [\"*\"], credentials: true }", "routes[0].cors.credentials", 7, "origins")]
    [InlineData("cors: { origins: [\"https://app.example.com/path\"] }", "routes[0].cors.origins[0]", 7, "origin")]
    [InlineData("hosts: [\"bad host\"]", "routes[0].hosts[0]", 7, "host name")]
    public void Parse_InvalidRouteFeature_OneErrorNamingKeyAndLine(string line, string key, int expectedLine, string mentioned)
    {
        var result = GatewayConfigParser.Parse($$"""
            upstreams:
              a: { destinations: ["http://127.0.0.1:5001"] }
            routes:
              - id: r
                path: /api/{**rest}
                upstream: a
                {{line}}
            """);

        Assert.Null(result.Config);
        var error = Assert.Single(result.Errors);
        Assert.Equal(key, error.Key);
        Assert.Equal(expectedLine, error.Line);
        Assert.Contains(mentioned, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("destinations: [{ url: \"http://127.0.0.1:5001\", weight: 0 }]", "upstreams.a.destinations[0].weight", "1 to")]
    [InlineData("destinations: [{ url: \"http://127.0.0.1:5001\", weight: -3 }]", "upstreams.a.destinations[0].weight", "1 to")]
    [InlineData("destinations: [\"not a url\"]", "upstreams.a.destinations[0]", "http://")]
    [InlineData("destinations: [{ url: \"ftp://host\", weight: 2 }]", "upstreams.a.destinations[0].url", "http://")]
    [InlineData("destinations: [{ url: \"http://h:1\", wieght: 2 }]", "upstreams.a.destinations[0].wieght", "unknown key")]
    [InlineData("destinations: [\"http://h:1\"]\n    load_balancing: fastest", "upstreams.a.load_balancing", "power_of_two")]
    [InlineData("destinations: [\"http://h:1\"]\n    passive_health: { failures: 0 }", "upstreams.a.passive_health.failures", "greater than zero")]
    [InlineData("destinations: [\"http://h:1\"]\n    http2: yes", "upstreams.a.http2", "true or false")]
    public void Parse_InvalidUpstreamFeature_OneErrorNamingKeyAndLine(string lines, string key, string mentioned)
    {
        var result = GatewayConfigParser.Parse($$"""
            upstreams:
              a:
                {{lines}}
            routes:
              - { id: r, path: "/api/{**rest}", upstream: a }
            """);

        Assert.Null(result.Config);
        var error = Assert.Single(result.Errors);
        Assert.Equal(key, error.Key);
        Assert.NotNull(error.Line);
        Assert.InRange(error.Line!.Value, 3, 4);
        Assert.Contains(mentioned, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnequalWeightsWithRoundRobin_RefusedNamingLoadBalancing()
    {
        var result = GatewayConfigParser.Parse("""
            upstreams:
              a:
                destinations: [{ url: "http://h:1", weight: 3 }, { url: "http://h:2", weight: 1 }]
                load_balancing: round_robin
            routes:
              - { id: r, path: "/api/{**rest}", upstream: a }
            """);

        var error = Assert.Single(result.Errors);
        Assert.Equal("upstreams.a.load_balancing", error.Key);
        Assert.Equal(4, error.Line);
    }

    [Theory]
    [InlineData("512", 512L)]
    [InlineData("512KB", 512L * 1024)]
    [InlineData("2mb", 2L * 1024 * 1024)]
    [InlineData("1GB", 1024L * 1024 * 1024)]
    public void Parse_MaxBodyUnits_ReadAsPowersOf1024(string text, long expected)
    {
        var result = GatewayConfigParser.Parse($$"""
            upstreams: { a: { destinations: ["http://h:1"] } }
            routes: [ { id: r, path: "/x", upstream: a, max_body: {{text}} } ]
            """);

        Assert.Empty(result.Errors);
        Assert.Equal(expected, result.Config!.Routes[0].Features.MaxBody);
    }
}
