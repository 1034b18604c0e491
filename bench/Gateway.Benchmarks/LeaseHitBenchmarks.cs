using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;
using Gateway.Hosting.Configuration;

namespace Gateway.Benchmarks;

/// <summary>
/// Fast mode: the cost of a decision answered from the edge's lease (the grain is asked only for refills, a few dozen
/// times a second), against an in-memory token bucket of System.Threading.RateLimiting as the baseline.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(PercentileConfig))]
public class LeaseHitBenchmarks
{
    private static readonly RateLimitPolicy Policy = new(10_000_000, TimeSpan.FromSeconds(1), 10_000_000);

    private BenchmarkHost _host = null!;
    private TokenBucketRateLimiter _local = null!;

    [GlobalSetup]
    public void Setup()
    {
        _host = BenchmarkHost.StartAsync("fast", gatewayPort: null, "bench", "bench-lease").GetAwaiter().GetResult();
        _local = CreateLocalBaseline();
        for (var i = 0; i < 10_000; i++)
        {
            _host.Limiter.AcquireAsync("default", Policy, "ip:192.0.2.1", CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>The baseline: System.Threading.RateLimiting's in-memory token bucket with the same policy as the lease.</summary>
    internal static TokenBucketRateLimiter CreateLocalBaseline() => new(new TokenBucketRateLimiterOptions
    {
        TokenLimit = 10_000_000,
        TokensPerPeriod = 10_000_000,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        AutoReplenishment = true,
        QueueLimit = 0,
    });

    [GlobalCleanup]
    public void Cleanup()
    {
        _local.Dispose();
        _host.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public bool LocalTokenBucket()
    {
        using var lease = _local.AttemptAcquire(1);
        return lease.IsAcquired;
    }

    [Benchmark]
    public async ValueTask<bool> FastModeLeaseHit() =>
        (await _host.Limiter.AcquireAsync("default", Policy, "ip:192.0.2.1", CancellationToken.None)).Allowed;
}
