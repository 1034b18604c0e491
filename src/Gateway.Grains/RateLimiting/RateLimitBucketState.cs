namespace Gateway.Grains.RateLimiting;

/// <summary>What a bucket checkpoints: its theoretical arrival time in UTC ticks (the whole GCRA state).</summary>
[GenerateSerializer, Alias("gateway.ratelimit.bucket-state")]
public sealed class RateLimitBucketState
{
    [Id(0)]
    public long TheoreticalArrival { get; set; }
}
