namespace Gateway.Grains.RateLimiting;

/// <summary>
/// What a shard checkpoints: the theoretical arrival time (UTC ticks, the whole GCRA state) of each of its buckets that
/// was in debt when it was written. A bucket missing here is full.
/// </summary>
[GenerateSerializer, Alias("gateway.ratelimit.shard-state")]
public sealed class RateLimitShardState
{
    [Id(0)]
    public Dictionary<string, long> Buckets { get; set; } = new(StringComparer.Ordinal);
}
