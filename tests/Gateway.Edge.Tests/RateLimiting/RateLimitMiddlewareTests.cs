using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Edge.RateLimiting;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Grains.Contracts;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Gateway.Edge.Tests.RateLimiting;

public sealed class RateLimitMiddlewareTests : IAsyncLifetime
{
    private const string AdminToken = "rate-limit-admin-token-0123456789abcdef";

    /// <summary>The key of every request of this class: the test client's own address.</summary>
    private const string PeerAddress = "127.0.0.1";

    // Each test gets its own edge (and embedded silo), so buckets start full. Loopback is not a trusted proxy here,
    // so every request is keyed by the peer 127.0.0.1 whatever X-Forwarded-For says.
    private TestUpstream _upstream = null!;
    private bool _warmed;
    private TestEdge _edge = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _edge = await TestEdge.StartAsync(Yaml("exact", limitedRequests: 3), $"--ADMIN_TOKEN={AdminToken}");
    }

    public async Task DisposeAsync()
    {
        await _edge.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Get_WithinBurst_AdmittedWithPolicyAndStateHeaders()
    {
        using var response = await GetAsync("/api/limited/a", "198.51.100.1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"limited\";q=3;w=60", response.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Equal("\"limited\";r=2;t=0", response.Headers.GetValues("RateLimit").Single());
    }

    [Fact]
    public async Task AcquireAsync_ConcurrentExactOnOneKey_AdmitsExactlyBurstWithSequentialRemaining()
    {
        var limiter = _edge.Services.GetRequiredService<GrainRateLimiter>();
        var policy = new RateLimitPolicy(10, TimeSpan.FromMinutes(1), 10);
        // Warm both grain methods (alone and coalesced) on another key, and activate the bucket under test: a cold first
        // call on a busy machine can miss the 50 ms budget, which is not what this test is about.
        var roomy = new RateLimitPolicy(1000, TimeSpan.FromMinutes(1), 1000);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => limiter.AcquireAsync("coalesced", roomy, "ip:203.0.113.9", CancellationToken.None).AsTask()));
        await limiter.PeekAsync("coalesced", policy, "ip:203.0.113.10", CancellationToken.None);

        var decisions = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ =>
            limiter.AcquireAsync("coalesced", policy, "ip:203.0.113.10", CancellationToken.None).AsTask()));

        Assert.DoesNotContain(decisions, d => d.BackendUnavailable);
        var admitted = decisions.Where(d => d.Allowed).ToList();
        Assert.Equal(10, admitted.Count);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), admitted.Select(d => d.Remaining).Order());
        Assert.All(admitted.Where(d => d.Remaining > 0), d => Assert.Equal(TimeSpan.Zero, d.RetryAfter));
        Assert.InRange(admitted.Single(d => d.Remaining == 0).RetryAfter, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(6));
        Assert.All(decisions.Where(d => !d.Allowed), d => Assert.InRange(d.RetryAfter, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(6)));
    }

    [Fact]
    public async Task AcquireAsync_ConcurrentExactOnManyKeysOfOneShard_AdmitsExactlyBurstPerKey()
    {
        var limiter = _edge.Services.GetRequiredService<GrainRateLimiter>();
        var policy = new RateLimitPolicy(3, TimeSpan.FromMinutes(1), 3);
        var roomy = new RateLimitPolicy(1000, TimeSpan.FromMinutes(1), 1000);
        var clients = Enumerable.Range(0, 20_000).Select(i => "ip:203.0.114." + i)
            .GroupBy(client => RateLimitKeys.Shard(RateLimitKeys.Bucket("batched", client)))
            .First().Take(24).ToList();

        // Warm the single and the batched call paths on other keys of the same shard (JIT on a busy machine).
        await Task.WhenAll(clients.Select(client => limiter.AcquireAsync("batched-warm", roomy, client, CancellationToken.None).AsTask()));

        // 24 clients of one shard, 6 requests each at once: they share this edge's one call in flight for the shard.
        var decisions = await Task.WhenAll(clients.SelectMany(client => Enumerable.Range(0, 6).Select(async _ =>
            (Client: client, Decision: await limiter.AcquireAsync("batched", policy, client, CancellationToken.None)))));

        Assert.DoesNotContain(decisions, d => d.Decision.BackendUnavailable);
        Assert.All(decisions.GroupBy(d => d.Client), perClient =>
        {
            var admitted = perClient.Where(d => d.Decision.Allowed).Select(d => d.Decision.Remaining).Order().ToList();
            Assert.Equal([0, 1, 2], admitted);
        });
    }

    [Fact]
    public async Task Get_BeyondBurst_Answers429ProblemWithRetryAfterAndCountsIt()
    {
        using var collector = new MetricCollector<long>(_edge.Services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, "gateway_ratelimit_exceeded_total");
        for (var i = 0; i < 3; i++)
        {
            using var admitted = await GetAsync("/api/limited/b", "198.51.100.2");
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        }

        using var denied = await GetAsync("/api/limited/b", "198.51.100.2");
        using var deniedFromCache = await GetAsync("/api/limited/b", "198.51.100.2");

        Assert.Equal(HttpStatusCode.TooManyRequests, denied.StatusCode);
        Assert.Equal("application/problem+json", denied.Content.Headers.ContentType!.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(20), denied.Headers.RetryAfter!.Delta);
        Assert.Equal("\"limited\";r=0;t=20", denied.Headers.GetValues("RateLimit").Single());
        using var body = JsonDocument.Parse(await denied.Content.ReadAsStringAsync());
        Assert.Equal(429, body.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(HttpStatusCode.TooManyRequests, deniedFromCache.StatusCode);
        Assert.True(deniedFromCache.Headers.RetryAfter!.Delta <= TimeSpan.FromSeconds(20));
        var counted = collector.GetMeasurementSnapshot();
        Assert.Equal(2, counted.Sum(m => m.Value));
        Assert.All(counted, m => Assert.Equal("limited", m.Tags["route"]));
        Assert.All(counted, m => Assert.Equal("limited", m.Tags["policy"]));
    }

    [Fact]
    public async Task Get_RouteOwnPolicy_CountsSeparatelyFromDefault()
    {
        for (var i = 0; i < 4; i++)
        {
            using var ignored = await GetAsync("/api/limited/c", "198.51.100.3");
        }

        using var other = await GetAsync("/api/open/c", "198.51.100.3");

        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal("\"default\";q=50;w=60", other.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Equal("\"default\";r=49;t=0", other.Headers.GetValues("RateLimit").Single());
    }

    [Fact]
    public async Task Get_RouteOff_NoLimitAndNoHeaders()
    {
        for (var i = 0; i < 60; i++)
        {
            using var response = await GetAsync("/api/free/d", "198.51.100.4");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("RateLimit-Policy"));
        }
    }

    [Fact]
    public async Task Get_ForwardedForFromUntrustedLoopback_KeyedByPeer()
    {
        using var first = await GetAsync("/api/limited/e", "198.51.100.5");
        using var second = await GetAsync("/api/limited/e", "198.51.100.6");

        // Loopback is not in trusted_proxies: both requests are the peer 127.0.0.1, one bucket.
        Assert.Equal("\"limited\";r=1;t=0", second.Headers.GetValues("RateLimit").Single());
        Assert.Equal("\"limited\";r=2;t=0", first.Headers.GetValues("RateLimit").Single());
    }

    [Fact]
    public async Task Get_PolicyChangedInFile_AppliesWithoutRestart()
    {
        using var before = await GetAsync("/api/limited/f", "198.51.100.7");
        Assert.True(await _edge.WriteConfigAsync(Yaml("exact", limitedRequests: 7)));

        using var after = await GetAsync("/api/limited/f", "198.51.100.7");

        Assert.Equal("\"limited\";q=3;w=60", before.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Equal("\"limited\";q=7;w=60", after.Headers.GetValues("RateLimit-Policy").Single());
    }

    [Fact]
    public async Task Get_FastMode_AdmitsBurstThenDenies()
    {
        Assert.True(await _edge.WriteConfigAsync(Yaml("fast", limitedRequests: 3)));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await GetAsync("/api/limited/g", "198.51.100.8");
            statuses.Add(response.StatusCode);
        }

        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task GetAdminClient_WithToken_ShowsEachPolicy()
    {
        using var ignored = await GetAsync("/api/limited/h", "198.51.100.9");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/clients/127.0.0.1");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);

        using var response = await _edge.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ip:127.0.0.1", body.RootElement.GetProperty("key").GetString());
        var policies = body.RootElement.GetProperty("policies").EnumerateArray().ToDictionary(p => p.GetProperty("policy").GetString()!);
        Assert.Equal(["default", "gold", "limited"], policies.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2, policies["limited"].GetProperty("remaining").GetInt64());
        Assert.Equal("limited", policies["limited"].GetProperty("route").GetString());
        Assert.Equal(50, policies["default"].GetProperty("remaining").GetInt64());
    }

    [Fact]
    public async Task GetAdminClient_WithoutToken_Unauthorized()
    {
        using var response = await _edge.Client.GetAsync(new Uri("/admin/clients/127.0.0.1", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string forwardedFor)
    {
        // Activate the buckets the request is counted in first (the admin view peeks without spending a token): a cold
        // activation on a busy machine can miss the 50 ms decision budget, and a fail-open answer would make the counts
        // below meaningless. Loopback is not trusted, so that is the peer's key, not the X-Forwarded-For address.
        if (!_warmed)
        {
            _warmed = true;
            using var warm = new HttpRequestMessage(HttpMethod.Get, $"/admin/clients/{PeerAddress}");
            warm.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
            using var warmed = await _edge.Client.SendAsync(warm);
            Assert.Equal(HttpStatusCode.OK, warmed.StatusCode);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await _edge.Client.SendAsync(request);
    }

    private string Yaml(string mode, int limitedRequests) => $$"""
        upstreams:
          echo: { destinations: ["{{_upstream.Address}}"] }
        routes:
          - { id: limited, path: "/api/limited/{**rest}", upstream: echo, ratelimit: { requests: {{limitedRequests}}, period: 60s, burst: {{limitedRequests}} } }
          - { id: open, path: "/api/open/{**rest}", upstream: echo }
          - { id: free, path: "/api/free/{**rest}", upstream: echo, ratelimit: off }
        ratelimit:
          default: { requests: 50, period: 60s }
          tiers: { gold: { requests: 500, period: 60s } }
          mode: {{mode}}
        """;
}
