using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;
using Gateway.Grains.Contracts;
using Gateway.Grains.RateLimiting;

namespace Gateway.Benchmarks;

/// <summary>The grain's per-decision work (GCRA on integer ticks) against an in-memory token bucket.</summary>
[MemoryDiagnoser]
public class AlgorithmBenchmarks
{
    private static readonly RateLimitRate Rate = new(10_000_000, TimeSpan.TicksPerSecond, 10_000_000);

    private readonly GcraBucket _bucket = new();
    private TokenBucketRateLimiter _local = null!;

    [GlobalSetup]
    public void Setup() => _local = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
    {
        TokenLimit = 10_000_000,
        TokensPerPeriod = 10_000_000,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        AutoReplenishment = true,
        QueueLimit = 0,
    });

    [GlobalCleanup]
    public void Cleanup() => _local.Dispose();

    [Benchmark(Baseline = true)]
    public bool LocalTokenBucket()
    {
        using var lease = _local.AttemptAcquire(1);
        return lease.IsAcquired;
    }

    [Benchmark]
    public bool Gcra() => _bucket.TryTake(Rate, TimeProvider.System.GetUtcNow().UtcTicks);
}
