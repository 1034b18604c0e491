using System.Net;
using System.Reflection;
using Gateway.Edge.RateLimiting;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Edge.Tests.Sessions;
using Gateway.Grains.Contracts;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Edge.Tests.RateLimiting;

/// <summary>An embedded edge whose rate-limit grains do not answer in time, with the default <c>on_backend_failure</c>.</summary>
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

    [Fact]
    public async Task Proxy_FastModeLeaseAnsweredAfterTheBudget_LocalAdmissionIsPaidFromTheLeasesNotAdmittedTwice()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var shards = new LateLeaseShards();
        // The limiter's clock moves only when the test moves it: the first decision misses its budget because the test
        // says so, and no later one can miss it on a slow machine.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var edge = await StartThreePerMinuteEdgeAsync(upstream, shards.Grains, "ratelimit: { mode: fast }", time);

        var statuses = new List<HttpStatusCode>();
        var first = edge.Client.GetAsync(new Uri("/api/x", UriKind.Relative));
        await Eventually.UntilAsync(() => Task.FromResult(shards.Leases > 0), TimeSpan.FromSeconds(10), "the first lease request reached the shard", TimeSpan.FromMilliseconds(10));
        time.Advance(GrainRateLimiter.DecisionBudget + TimeSpan.FromMilliseconds(1));
        using (var response = await first)
        {
            statuses.Add(response.StatusCode);
        }

        // The lease asked for by the first request now arrives, taken from the grain's bucket after the local decision.
        shards.ReleaseFirstLease();
        for (var i = 0; i < 5; i++)
        {
            using var response = await edge.Client.GetAsync(new Uri("/api/x", UriKind.Relative));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task Proxy_ExactModeShardCallFailedThenAnswers_LocalAdmissionIsChargedBeforeTheNextDecisionNotAdmittedTwice()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var shards = new LostChargeShards();
        await using var edge = await StartThreePerMinuteEdgeAsync(upstream, shards.Grains, "ratelimit: { mode: exact }");

        // The first decision's call fails (it never reached the shard): the local bucket admits it. Every later call
        // answers, so the edge owes the shard that one request from the second decision on.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await edge.Client.GetAsync(new Uri("/api/x", UriKind.Relative));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(3, shards.Taken);
    }

    // Shards fail every call for a while (the local bucket decides), then answer: what the local bucket admitted is
    // charged before the shards' first answer admits anything.
    [Theory]
    [InlineData("exact")]
    [InlineData("fast")]
    public async Task Proxy_LocalBucketSpentThenShardsAnswer_FirstAnswerIsADenialNotAFourthAdmission(string mode)
    {
        await using var upstream = await TestUpstream.StartAsync();
        var shards = new FailingThenAnsweringShards();
        await using var edge = await StartThreePerMinuteEdgeAsync(upstream, shards.Grains, $"ratelimit: {{ mode: {mode} }}");

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await edge.Client.GetAsync(new Uri("/api/x", UriKind.Relative));
            statuses.Add(response.StatusCode);
        }

        shards.Answer();
        for (var i = 0; i < 2; i++)
        {
            using var response = await edge.Client.GetAsync(new Uri("/api/x", UriKind.Relative));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(3, shards.Taken);
    }

    /// <summary>An embedded edge with one route limited to 3 a minute whose limiter asks <paramref name="grains"/>.</summary>
    private static Task<TestEdge> StartThreePerMinuteEdgeAsync(TestUpstream upstream, IGrainFactory grains, string ratelimit, TimeProvider? time = null) =>
        TestEdge.StartAsync(
            $$"""
            upstreams: { echo: { destinations: ["{{upstream.Address}}"] } }
            routes: [ { id: echo, path: "/api/{**rest}", upstream: echo, ratelimit: { requests: 3, period: 60s } } ]
            {{ratelimit}}
            """,
            services => services.AddSingleton<IRateLimiter>(sp => new GrainRateLimiter(
                grains,
                sp.GetRequiredService<GatewayConfigStore>(),
                sp.GetRequiredService<GatewayMetrics>(),
                time ?? TimeProvider.System,
                new EdgeShare(),
                NullLogger<GrainRateLimiter>.Instance)));
}

/// <summary>
/// Rate-limit shards over one table of real buckets for exact mode: the first call fails before reaching the shard,
/// later single decisions answer at once, and a batch answers only when it carries a debt: a charge sent apart from the
/// lane (a batch of its own without one) is never answered, as a charge overtaken by the next decisions.
/// </summary>
public sealed class LostChargeShards
{
    private readonly ShardBucketTable _buckets = new();
    private int _calls;

    public LostChargeShards() => Grains = ShardFactory.Create(() =>
    {
        var shard = DispatchProxy.Create<IRateLimitShardGrain, Shard>();
        ((Shard)shard).Shards = this;
        return shard;
    });

    public IGrainFactory Grains { get; }

    /// <summary>Tokens the shards' buckets gave out, charged debts included.</summary>
    public long Taken => _buckets.Taken;

    private Task<RateLimitGrant> Acquire(string bucket, RateLimitRate rate) =>
        Interlocked.Increment(ref _calls) == 1
            ? Task.FromException<RateLimitGrant>(new TimeoutException("The message did not reach the shard."))
            : Task.FromResult(_buckets.Acquire(bucket, rate, 1));

    private Task<RateLimitGrants> AcquireBatch(RateLimitAsks asks) =>
        asks.Items.Any(ask => ask.Debt > 0)
            ? Task.FromResult(_buckets.AcquireBatch(asks))
            : new TaskCompletionSource<RateLimitGrants>().Task;

    public class Shard : DispatchProxy
    {
        public LostChargeShards? Shards { get; set; }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            nameof(IRateLimitShardGrain.AcquireAsync) => new ValueTask<RateLimitGrant>(Shards!.Acquire((string)args![0]!, (RateLimitRate)args[1]!)),
            nameof(IRateLimitShardGrain.AcquireBatchAsync) => new ValueTask<RateLimitGrants>(Shards!.AcquireBatch((RateLimitAsks)args![0]!)),
            _ => throw new NotSupportedException(targetMethod?.Name),
        };
    }
}

/// <summary>
/// Rate-limit shards over one table of real buckets, where the first lease request is answered only when the test
/// releases it (a grain that missed the budget, then answered) and charges (batch calls) are never answered.
/// </summary>
public sealed class LateLeaseShards
{
    private readonly ShardBucketTable _buckets = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _leases;

    public LateLeaseShards() => Grains = ShardFactory.Create(() =>
    {
        var shard = DispatchProxy.Create<IRateLimitShardGrain, Shard>();
        ((Shard)shard).Shards = this;
        return shard;
    });

    public IGrainFactory Grains { get; }

    /// <summary>Lease requests that reached the shard so far.</summary>
    public int Leases => Volatile.Read(ref _leases);

    /// <summary>Lets the first lease request answer now, from the bucket as it is at this moment.</summary>
    public void ReleaseFirstLease() => _release.TrySetResult();

    private Task<RateLimitGrant> Lease(string bucket, RateLimitRate rate, long want, long returning) =>
        Interlocked.Increment(ref _leases) == 1
            ? _release.Task.ContinueWith(_ => _buckets.Lease(bucket, rate, want, returning), TaskScheduler.Default)
            : Task.FromResult(_buckets.Lease(bucket, rate, want, returning));

    public class Shard : DispatchProxy
    {
        public LateLeaseShards? Shards { get; set; }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            nameof(IRateLimitShardGrain.LeaseAsync) => new ValueTask<RateLimitGrant>(Shards!.Lease((string)args![0]!, (RateLimitRate)args[1]!, (long)args[2]!, (long)args[3]!)),
            nameof(IRateLimitShardGrain.AcquireBatchAsync) => new ValueTask<RateLimitGrants>(new TaskCompletionSource<RateLimitGrants>().Task),
            _ => throw new NotSupportedException(targetMethod?.Name),
        };
    }
}

/// <summary>A grain factory whose every rate-limit shard is made by one function (the shard proxies of the tests above).</summary>
public class ShardFactory : DispatchProxy
{
    private Func<IRateLimitShardGrain>? _newShard;

    public static IGrainFactory Create(Func<IRateLimitShardGrain> newShard)
    {
        var factory = DispatchProxy.Create<IGrainFactory, ShardFactory>();
        ((ShardFactory)factory)._newShard = newShard;
        return factory;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
        targetMethod?.ReturnType == typeof(IRateLimitShardGrain) ? _newShard!() : throw new NotSupportedException(targetMethod?.Name);
}
