using System.Net;
using Gateway.Edge.RateLimiting;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Edge.Tests.Sessions;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Edge.Tests.RateLimiting;

/// <summary>An embedded edge whose rate-limit grains never answer, with the default <c>on_backend_failure</c>.</summary>
public sealed class LocalFallbackEdgeTests
{
    [Fact]
    public async Task Proxy_GrainsSilentWithDefaultFailureMode_LocalBucketAdmitsTheBurstThen429WithHeadersAndCounts()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var edge = await TestEdge.StartAsync(
            $$"""
            upstreams: { echo: { destinations: ["{{upstream.Address}}"] } }
            routes: [ { id: echo, path: "/api/{**rest}", upstream: echo, ratelimit: { requests: 3, period: 60s } } ]
            """,
            services => services.AddSingleton<IRateLimiter>(sp => new GrainRateLimiter(
                SilentGrains.Create(),
                sp.GetRequiredService<GatewayConfigStore>(),
                sp.GetRequiredService<GatewayMetrics>(),
                TimeProvider.System,
                new EdgeShare(),
                NullLogger<GrainRateLimiter>.Instance)));

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 4; i++)
        {
            last?.Dispose();
            last = await edge.Client.GetAsync(new Uri("/api/x", UriKind.Relative));
            statuses.Add(last.StatusCode);
        }

        using var denied = last!;
        var metrics = await edge.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal("\"echo\";q=3;w=60", Assert.Single(denied.Headers.GetValues("RateLimit-Policy")));
        Assert.StartsWith("\"echo\";r=0;t=", Assert.Single(denied.Headers.GetValues("RateLimit")), StringComparison.Ordinal);
        Assert.True(denied.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Contains(metrics.Split('\n'), line => line.StartsWith("gateway_ratelimit_backend_failures_total{", StringComparison.Ordinal) && line.Contains("outcome=\"local_admitted\"", StringComparison.Ordinal) && line.EndsWith(" 3", StringComparison.Ordinal));
        Assert.Contains(metrics.Split('\n'), line => line.StartsWith("gateway_ratelimit_backend_failures_total{", StringComparison.Ordinal) && line.Contains("outcome=\"local_denied\"", StringComparison.Ordinal) && line.EndsWith(" 1", StringComparison.Ordinal));
    }
}
