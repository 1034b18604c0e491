using System.Net;
using System.Reflection;
using Gateway.Edge.RateLimiting;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Grains.Contracts;
using Gateway.Grains.RateLimiting;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Edge.Tests.RateLimiting;

/// <summary>
/// An embedded edge whose shards fail every call for a while (its local bucket decides), then answer: what the local
/// bucket admitted is charged before the shards' first answer admits anything.
/// </summary>
public sealed class LocalAdmissionChargeTests
{
    [Theory]
    [InlineData("exact")]
    [InlineData("fast")]
    public async Task Proxy_LocalBucketSpentThenShardsAnswer_FirstAnswerIsADenialNotAFourthAdmission(string mode)
    {
        await using var upstream = await TestUpstream.StartAsync();
        var shards = new FailingThenAnsweringShards();
        await using var edge = await TestEdge.StartAsync(
            $$"""
            upstreams: { echo: { destinations: ["{{upstream.Address}}"] } }
            routes: [ { id: echo, path: "/api/{**rest}", upstream: echo, ratelimit: { requests: 3, period: 60s } } ]
            ratelimit: { mode: {{mode}} }
            """,
            services => services.AddSingleton<IRateLimiter>(sp => new GrainRateLimiter(
                shards.Grains,
                sp.GetRequiredService<GatewayConfigStore>(),
                sp.GetRequiredService<GatewayMetrics>(),
                TimeProvider.System,
                new EdgeShare(),
                NullLogger<GrainRateLimiter>.Instance)));

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
}

/// <summary>
/// Rate-limit shards over one table of real buckets that fail every call (as a silo that is gone) until
/// <see cref="Answer"/>, then answer every kind of call at once.
/// </summary>
public sealed class FailingThenAnsweringShards
{
    private readonly Dictionary<string, GcraBucket> _buckets = new(StringComparer.Ordinal);
    private volatile bool _answering;

    public FailingThenAnsweringShards() => Grains = ShardFactory.Create(() =>
    {
        var shard = DispatchProxy.Create<IRateLimitShardGrain, Shard>();
        ((Shard)shard).Shards = this;
        return shard;
    });

    public IGrainFactory Grains { get; }

    /// <summary>Tokens the buckets gave out, charged debts included.</summary>
    public long Taken { get; private set; }

    /// <summary>From now on, every call is answered.</summary>
    public void Answer() => _answering = true;

    private Task<T> Call<T>(Func<T> answer) =>
        _answering ? Task.FromResult(answer()) : Task.FromException<T>(new TimeoutException("The shard's silo is gone."));

    private RateLimitGrant Take(string bucket, RateLimitRate rate, long count, long debt, long returning = 0)
    {
        lock (_buckets)
        {
            var now = DateTime.UtcNow.Ticks;
            if (!_buckets.TryGetValue(bucket, out var gcra))
            {
                gcra = _buckets[bucket] = new GcraBucket();
            }

            gcra.Return(rate, now, returning);
            Taken -= returning;
            Taken += gcra.TakeUpTo(rate, now, debt);
            var granted = gcra.TakeUpTo(rate, now, count);
            Taken += granted;
            return gcra.Grant(rate, now, granted);
        }
    }

    public class Shard : DispatchProxy
    {
        public FailingThenAnsweringShards? Shards { get; set; }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            var shards = Shards!;
            return targetMethod?.Name switch
            {
                nameof(IRateLimitShardGrain.AcquireAsync) => new ValueTask<RateLimitGrant>(shards.Call(() => shards.Take((string)args![0]!, (RateLimitRate)args[1]!, 1, 0))),
                nameof(IRateLimitShardGrain.AcquireBatchAsync) => new ValueTask<RateLimitGrants>(shards.Call(() =>
                    new RateLimitGrants([.. ((RateLimitAsks)args![0]!).Items.Select(ask => shards.Take(ask.Bucket, ask.Rate, ask.Count, ask.Debt))]))),
                nameof(IRateLimitShardGrain.LeaseAsync) => new ValueTask<RateLimitGrant>(shards.Call(() =>
                {
                    var (bucket, rate, want, returning) = ((string)args![0]!, (RateLimitRate)args[1]!, (long)args[2]!, (long)args[3]!);
                    return shards.Take(bucket, rate, Math.Min(want, rate.MaxLease), 0, returning);
                })),
                _ => throw new NotSupportedException(targetMethod?.Name),
            };
        }
    }
}
