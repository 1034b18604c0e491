using Gateway.Grains.Contracts;
using Gateway.Grains.RateLimiting;

namespace Gateway.Grains.Tests.RateLimiting;

public sealed class ShardBucketsTests
{
    private static readonly RateLimitRate FivePerSecond = new(5, TimeSpan.TicksPerSecond, 5);
    private static readonly long Start = DateTimeOffset.UnixEpoch.AddYears(55).UtcTicks;

    [Fact]
    public void Evict_ManyIdleFullBuckets_ForgetsEveryOne()
    {
        var buckets = new ShardBuckets();
        for (var i = 0; i < 10_000; i++)
        {
            buckets.Acquire("default|ip:10.1." + i, FivePerSecond, Start, 1);
        }

        // One token each: full again 200 ms later. The sweep after that forgets them all.
        var later = Start + TimeSpan.FromSeconds(1).Ticks;
        var evicted = buckets.Evict(later, unusedSince: later);

        Assert.Equal(10_000, evicted);
        Assert.Equal(0, buckets.Count);
    }

    [Fact]
    public void Acquire_WithDebt_ChargesTheDebtBeforeTheRequestsAndGrantsOnlyTheRequests()
    {
        var buckets = new ShardBuckets();

        var grant = buckets.Acquire("default|ip:10.1.1.1", FivePerSecond, Start, count: 3, debt: 3);

        Assert.Equal((2L, 0L), (grant.Granted, grant.Remaining));
        Assert.True(buckets.Changed);
    }

    [Fact]
    public void Acquire_DebtOnly_TakesUpToWhatTheBucketHolds()
    {
        var buckets = new ShardBuckets();
        buckets.Acquire("default|ip:10.1.1.1", FivePerSecond, Start, 4);

        var charged = buckets.Acquire("default|ip:10.1.1.1", FivePerSecond, Start, count: 0, debt: 3);
        var next = buckets.Acquire("default|ip:10.1.1.1", FivePerSecond, Start, 1);

        Assert.Equal((0L, 0L), (charged.Granted, charged.Remaining));
        Assert.Equal(0, next.Granted);
    }

    [Fact]
    public void Evict_BucketInDebt_KeptUntilFull()
    {
        var buckets = new ShardBuckets();
        buckets.Acquire("default|ip:10.1.1.1", FivePerSecond, Start, 5);

        var whileInDebt = buckets.Evict(Start + TimeSpan.FromMilliseconds(900).Ticks, unusedSince: long.MaxValue);
        var afterRefill = buckets.Evict(Start + TimeSpan.FromSeconds(1).Ticks, unusedSince: long.MaxValue);

        Assert.Equal((0, 1), (whileInDebt, afterRefill));
    }

    [Fact]
    public void Evict_CalledSinceLastSweep_Kept()
    {
        var buckets = new ShardBuckets();
        var sweep = Start + TimeSpan.FromSeconds(5).Ticks;
        buckets.Acquire("default|ip:10.1.1.2", FivePerSecond, sweep, 1);

        var evicted = buckets.Evict(sweep + TimeSpan.FromSeconds(1).Ticks, unusedSince: sweep);

        Assert.Equal(0, evicted);
        Assert.Equal(1, buckets.Count);
    }

    [Fact]
    public void Acquire_BucketInRestoredCheckpoint_StartsFromItsDebt()
    {
        var buckets = new ShardBuckets();
        buckets.Restore(new Dictionary<string, long> { ["default|user:bob"] = Start + (5 * FivePerSecond.EmissionTicks) });

        var peek = buckets.Peek("default|user:bob", FivePerSecond, Start);
        var grant = buckets.Acquire("default|user:bob", FivePerSecond, Start, 1);

        Assert.Equal(0, peek.Remaining);
        Assert.Equal(0, grant.Granted);
    }

    [Fact]
    public void Peek_UnknownBucket_FullWithoutCreatingIt()
    {
        var buckets = new ShardBuckets();

        var peek = buckets.Peek("default|ip:10.1.1.3", FivePerSecond, Start);

        Assert.Equal((5, 0), (peek.Remaining, buckets.Count));
    }

    [Fact]
    public void Snapshot_MixedBuckets_HoldsOnlyThoseInDebt()
    {
        var buckets = new ShardBuckets();
        buckets.Restore(new Dictionary<string, long> { ["default|old-full"] = Start - 1, ["default|old-debt"] = Start + 10 });
        buckets.Acquire("default|debt", FivePerSecond, Start, 2);
        buckets.Acquire("default|full", FivePerSecond, Start - TimeSpan.TicksPerSecond, 1);

        var snapshot = buckets.Snapshot(Start);

        Assert.Equal(["default|debt", "default|old-debt"], snapshot.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Start + (2 * FivePerSecond.EmissionTicks), snapshot["default|debt"]);
    }

    [Fact]
    public void Acquire_UnsavedDebtReachesTenthOfBurst_MarksShardDirtyUntilSaved()
    {
        var buckets = new ShardBuckets();
        var rate = new RateLimitRate(100, TimeSpan.TicksPerSecond, 100);
        buckets.Acquire("default|a", rate, Start, 9);
        var before = buckets.Dirty;
        buckets.Acquire("default|a", rate, Start, 1);
        var after = buckets.Dirty;
        buckets.Saved();

        Assert.Equal((false, true, false), (before, after, buckets.Dirty));
    }

    [Fact]
    public void Merge_OtherCopyAhead_LaterTheoreticalArrivalWins()
    {
        var buckets = new ShardBuckets();
        buckets.Acquire("default|a", FivePerSecond, Start, 1);

        buckets.Merge(new Dictionary<string, long> { ["default|a"] = Start + (3 * FivePerSecond.EmissionTicks), ["default|b"] = Start + FivePerSecond.EmissionTicks });

        Assert.Equal(2, buckets.Peek("default|a", FivePerSecond, Start).Remaining);
        Assert.Equal(4, buckets.Peek("default|b", FivePerSecond, Start).Remaining);
    }
}
