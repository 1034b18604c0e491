using System.Net;
using Gateway.Edge.RateLimiting;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Hosting.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Edge.Tests.RateLimiting;

public sealed class TrustedProxyTests
{
    [Fact]
    public async Task Get_LoopbackListedAsTrusted_KeyedByForwardedClient()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var edge = await TestEdge.StartAsync($$"""
            upstreams:
              echo: { destinations: ["{{upstream.Address}}"] }
            routes:
              - { id: limited, path: "/api/{**rest}", upstream: echo, ratelimit: { requests: 1, period: 60s } }
            trusted_proxies: ["127.0.0.1/32"]
            """);

        var statuses = new List<HttpStatusCode>();
        foreach (var client in new[] { "198.51.100.1", "198.51.100.2", "198.51.100.1" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/x");
            request.Headers.Add("X-Forwarded-For", client);
            using var response = await edge.Client.SendAsync(request);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task Get_Ipv6Clients_KeyedByTheirSlash64()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var edge = await TestEdge.StartAsync($$"""
            upstreams:
              echo: { destinations: ["{{upstream.Address}}"] }
            routes:
              - { id: limited, path: "/api/{**rest}", upstream: echo, ratelimit: { requests: 1, period: 60s } }
            trusted_proxies: ["127.0.0.1/32"]
            """);
        var limiter = edge.Services.GetRequiredService<GrainRateLimiter>();
        var policy = new RateLimitPolicy(1, TimeSpan.FromSeconds(60), 1);
        await limiter.PeekAsync("limited", policy, "ip:2001:db8:1:2::/64", CancellationToken.None);
        await limiter.PeekAsync("limited", policy, "ip:2001:db8:1:3::/64", CancellationToken.None);

        var statuses = new List<HttpStatusCode>();
        foreach (var client in new[] { "2001:db8:1:2::1", "2001:db8:1:3::1", "2001:db8:1:2:ffff::99" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/x");
            request.Headers.Add("X-Forwarded-For", client);
            using var response = await edge.Client.SendAsync(request);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
    }
}
