using System.Net;
using Gateway.Edge.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.Edge.Tests.Routing;

/// <summary>What a client says about its address, URL or method reaches an upstream only where a route allows it.</summary>
/// <remarks>
/// The tests that only send requests share the class's edge (each finds its request upstream by its own marker); a test
/// that reloads the configuration or needs another one starts its own edge.
/// </remarks>
public sealed class ForwardedHeadersTests(ForwardedHeadersTests.Fixture fixture) : IClassFixture<ForwardedHeadersTests.Fixture>
{
    private static readonly string[] Spoofing = ["X-Real-IP", "X-Original-URL", "X-HTTP-Method-Override", "X-Original-Method", "X-Rewrite-URL", "X-HTTP-Method", "X-Method-Override"];

    private readonly TestUpstream _upstream = fixture.Upstream;

    [Fact]
    public async Task Proxy_RouteWithoutOptIn_DropsClientAddressUrlAndMethodHeaders()
    {
        var edge = fixture.Edge;

        var seen = await SendAsync(edge, "/api/plain/x", [.. Spoofing.Select(name => (name, "spoofed")), ("x_real_ip", "spoofed"), ("X_Forwarded_Host", "evil.example"), ("X-Keep-Me", "kept")]);

        Assert.All(Spoofing, name => Assert.False(seen.ContainsKey(name), name));
        Assert.DoesNotContain(seen.Keys, key => key.Contains('_', StringComparison.Ordinal));
        Assert.Equal("kept", seen["X-Keep-Me"].ToString());
    }

    [Fact]
    public async Task Proxy_RouteWithOptIn_KeepsListedHeadersOnly()
    {
        var edge = fixture.Edge;

        var seen = await SendAsync(edge, "/api/opted/x", [.. Spoofing.Select(name => (name, "from-client"))]);

        Assert.Equal("from-client", seen["X-Real-IP"].ToString());
        Assert.Equal("from-client", seen["X-HTTP-Method-Override"].ToString());
        Assert.False(seen.ContainsKey("X-Original-URL"));
        Assert.False(seen.ContainsKey("X-Original-Method"));
        Assert.False(seen.ContainsKey("X-Rewrite-URL"));
    }

    [Fact]
    public async Task Proxy_OptInAddedByReload_AppliesWithoutRestart()
    {
        await using var edge = await TestEdge.StartAsync(Config());
        Assert.True(await edge.WriteConfigAsync(Config().Replace("forward_client_headers: [x-real-ip, X-HTTP-METHOD-OVERRIDE]", "forward_client_headers: [X-Original-URL]", StringComparison.Ordinal)));

        var seen = await SendAsync(edge, "/api/opted/x", [.. Spoofing.Select(name => (name, "from-client"))]);

        Assert.Equal("from-client", seen["X-Original-URL"].ToString());
        Assert.False(seen.ContainsKey("X-Real-IP"));
    }

    [Fact]
    public async Task Proxy_ClientForwardedHostProtoPrefix_ReplacedByTheGatewaysOwn()
    {
        var edge = fixture.Edge;

        var seen = await SendAsync(edge, "/api/plain/x", [("X-Forwarded-Host", "evil.example"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Prefix", "/evil"), ("Forwarded", "for=198.51.100.1;host=evil.example")]);

        Assert.Equal(edge.Client.BaseAddress!.Authority, seen["X-Forwarded-Host"].ToString());
        Assert.Equal("http", seen["X-Forwarded-Proto"].ToString());
        Assert.False(seen.ContainsKey("X-Forwarded-Prefix"));
        Assert.False(seen.ContainsKey("Forwarded"));
    }

    [Fact]
    public async Task Proxy_NoTrustedProxies_ForwardedForIsThePeerOnly()
    {
        var edge = fixture.Edge;

        var seen = await SendAsync(edge, "/api/plain/x", [("X-Forwarded-For", "198.51.100.7, 203.0.113.9")]);

        Assert.Equal("127.0.0.1", seen["X-Forwarded-For"].ToString());
    }

    [Fact]
    public async Task Proxy_NoClientForwardedFor_ForwardedForIsThePeer()
    {
        var seen = await SendAsync(fixture.Edge, "/api/plain/x", []);

        Assert.Equal("127.0.0.1", seen["X-Forwarded-For"].ToString());
    }

    [Fact]
    public async Task Proxy_TrustedProxies_ForwardedForIsResolvedClientThenTrustedHopsThenPeer()
    {
        await using var edge = await TestEdge.StartAsync(Config("trusted_proxies: [\"127.0.0.0/8\", \"10.0.0.0/8\"]"));

        var seen = await SendAsync(edge, "/api/plain/x", [("X-Forwarded-For", "198.51.100.7, 203.0.113.9, 10.1.2.3")]);
        var none = await SendAsync(edge, "/api/plain/x", []);

        Assert.Equal("203.0.113.9, 10.1.2.3, 127.0.0.1", seen["X-Forwarded-For"].ToString());
        Assert.Equal("127.0.0.1", none["X-Forwarded-For"].ToString());
    }

    private string Config(string extra = "") => Fixture.Config(_upstream, extra);

    private async Task<IHeaderDictionary> SendAsync(TestEdge edge, string path, (string Name, string Value)[] headers)
    {
        var marker = Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("X-Correlation-ID", marker);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await edge.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return _upstream.Received.Last(h => h["X-Correlation-ID"] == marker);
    }

    /// <summary>The edge with the class's default configuration, shared by the tests that do not change it.</summary>
    public sealed class Fixture : EdgeFixture
    {
        internal static string Config(TestUpstream upstream, string extra = "") => $$"""
            upstreams:
              echo: { destinations: ["{{upstream.Address}}"] }
            routes:
              - { id: plain, path: "/api/plain/{**rest}", upstream: echo, ratelimit: off }
              - id: opted
                path: "/api/opted/{**rest}"
                upstream: echo
                ratelimit: off
                forward_client_headers: [x-real-ip, X-HTTP-METHOD-OVERRIDE]
            {{extra}}
            """;

        protected override string Config(TestUpstream upstream) => Config(upstream, string.Empty);
    }
}
