using System.Reflection;
using Gateway.Grains.Contracts;

namespace Gateway.Edge.Tests.RateLimiting;

/// <summary>
/// Rate-limit shards over one table of real buckets that fail every call (as a silo that is gone) until
/// <see cref="Answer"/>, then answer every kind of call at once.
/// </summary>
public sealed class FailingThenAnsweringShards
{
    private readonly ShardBucketTable _buckets = new();
    private volatile bool _answering;

    public FailingThenAnsweringShards() => Grains = ShardFactory.Create(() =>
    {
        var shard = DispatchProxy.Create<IRateLimitShardGrain, Shard>();
        ((Shard)shard).Shards = this;
        return shard;
    });

    public IGrainFactory Grains { get; }

    /// <summary>Tokens the buckets gave out, charged debts included.</summary>
    public long Taken => _buckets.Taken;

    /// <summary>From now on, every call is answered.</summary>
    public void Answer() => _answering = true;

    private Task<T> Call<T>(Func<T> answer) =>
        _answering ? Task.FromResult(answer()) : Task.FromException<T>(new TimeoutException("The shard's silo is gone."));

    public class Shard : DispatchProxy
    {
        public FailingThenAnsweringShards? Shards { get; set; }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            var shards = Shards!;
            return targetMethod?.Name switch
            {
                nameof(IRateLimitShardGrain.AcquireAsync) => new ValueTask<RateLimitGrant>(shards.Call(() => shards._buckets.Acquire((string)args![0]!, (RateLimitRate)args[1]!, 1))),
                nameof(IRateLimitShardGrain.AcquireBatchAsync) => new ValueTask<RateLimitGrants>(shards.Call(() => shards._buckets.AcquireBatch((RateLimitAsks)args![0]!))),
                nameof(IRateLimitShardGrain.LeaseAsync) => new ValueTask<RateLimitGrant>(shards.Call(() => shards._buckets.Lease((string)args![0]!, (RateLimitRate)args[1]!, (long)args[2]!, (long)args[3]!))),
                _ => throw new NotSupportedException(targetMethod?.Name),
            };
        }
    }
}
