using Gateway.Grains.Contracts;
using Gateway.Grains.RateLimiting;

namespace Gateway.Edge.Tests.RateLimiting;

/// <summary>
/// The real buckets behind the rate-limit shard proxies of these tests: one table of <see cref="GcraBucket"/>s that
/// answers every kind of shard call as a shard would, and counts the tokens it gave out.
/// </summary>
public sealed class ShardBucketTable
{
    private readonly Dictionary<string, GcraBucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>Tokens given out, charged debts and leases included, returned tokens subtracted.</summary>
    public long Taken { get; private set; }

    /// <summary>An exact decision of <paramref name="count"/> requests after <paramref name="debt"/> was charged.</summary>
    public RateLimitGrant Acquire(string bucket, RateLimitRate rate, long count, long debt = 0) => Take(bucket, rate, count, debt, 0);

    /// <summary>A fast-mode lease: <paramref name="returning"/> tokens back, then up to <paramref name="want"/> (at most a lease's worth).</summary>
    public RateLimitGrant Lease(string bucket, RateLimitRate rate, long want, long returning) =>
        Take(bucket, rate, Math.Min(want, rate.MaxLease), 0, returning);

    /// <summary>Every ask of a batch, in order.</summary>
    public RateLimitGrants AcquireBatch(RateLimitAsks asks) =>
        new([.. asks.Items.Select(ask => Acquire(ask.Bucket, ask.Rate, ask.Count, ask.Debt))]);

    private RateLimitGrant Take(string bucket, RateLimitRate rate, long count, long debt, long returning)
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
}
