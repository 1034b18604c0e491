using System.Net;
using System.Text;
using Gateway.Edge.Pipeline;
using Gateway.Edge.RateLimiting;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Edge.Tests.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Edge.Tests.Pipeline;

/// <summary>The client address is resolved once, before routing, so the edge's own endpoints (login) see it too.</summary>
public sealed class GatewayRequestMiddlewareTests
{
    [Fact]
    public async Task Login_BehindTrustedProxy_LimitedByForwardedClientAddress()
    {
        var limiter = new RecordingRateLimiter();
        await using var upstream = await TestUpstream.StartAsync();
        await using var edge = await TestEdge.StartAsync(
            SessionEdgeTests.Config(upstream.Address, "trusted_proxies: [\"127.0.0.0/8\"]"),
            services => services.AddSingleton<IRateLimiter>(limiter),
            $"--SESSION_SECRET={SessionEdgeTests.Secret}");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/auth/login")
        {
            Content = new StringContent("{\"username\":\"alice\",\"password\":\"alice\"}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Forwarded-For", "203.0.113.7, 127.0.0.2");

        using var response = await edge.Client.SendAsync(request);

        Assert.Contains(("login-ip", "login-ip:203.0.113.7"), limiter.Calls);
        Assert.DoesNotContain(limiter.Calls, call => call.Key == "login-ip:127.0.0.1");
    }

    [Fact]
    public void Text_SameAddressAgain_SameStringWithoutANewOne()
    {
        var first = GatewayRequestMiddleware.Text(IPAddress.Parse("192.0.2.10"));
        var second = GatewayRequestMiddleware.Text(IPAddress.Parse("192.0.2.10"));

        Assert.Equal("192.0.2.10", first);
        Assert.Same(first, second);
    }

    [Fact]
    public void Text_OtherAddressAfterOne_ItsOwnText()
    {
        GatewayRequestMiddleware.Text(IPAddress.Parse("192.0.2.10"));

        Assert.Equal("2001:db8::1", GatewayRequestMiddleware.Text(IPAddress.Parse("2001:db8::1")));
        Assert.Equal("192.0.2.11", GatewayRequestMiddleware.Text(IPAddress.Parse("192.0.2.11")));
    }
}
