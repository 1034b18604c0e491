using Gateway.Grains.Contracts;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// One reference per rate-limit shard, made on first use and kept: <c>GetGrain</c> resolves the grain interface's type
/// on every call, which showed in the edge's profile at one call per decision.
/// </summary>
internal sealed class ShardGrains(IGrainFactory grains)
{
    private readonly IRateLimitShardGrain?[] _shards = new IRateLimitShardGrain?[RateLimitKeys.ShardCount];

    /// <summary>The reference to shard <paramref name="shard"/> (two threads may both make it first; either is kept).</summary>
    public IRateLimitShardGrain this[int shard] => _shards[shard] ??= grains.GetGrain<IRateLimitShardGrain>(shard);
}
