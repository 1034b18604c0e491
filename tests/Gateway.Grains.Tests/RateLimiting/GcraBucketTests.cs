using Gateway.Grains.Contracts;
using Gateway.Grains.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Grains.Tests.RateLimiting;

public sealed class GcraBucketTests
{
    private static readonly RateLimitRate TenPerSecondBurstFive = new(10, TimeSpan.TicksPerSecond, 5);

    public static TheoryData<long, long, long, int> Policies => new()
    {
        // requests, period (ms), burst, seed
        { 10, 1000, 5, 1 },
        { 10, 1000, 10, 2 },
        { 3, 1000, 1, 3 },
        { 100, 60_000, 100, 4 },
        { 7, 333, 20, 5 },
        { 1000, 1000, 50, 6 },
    };

    [Fact]
    public void TryTake_FullBucket_AdmitsBurstThenDenies()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(55));
        var bucket = new GcraBucket();
        var now = time.GetUtcNow().UtcTicks;

        var admitted = Enumerable.Range(0, 8).Count(_ => bucket.TryTake(TenPerSecondBurstFive, now));

        Assert.Equal(5, admitted);
        Assert.Equal(0, bucket.Available(TenPerSecondBurstFive, now));
        Assert.Equal(TimeSpan.FromMilliseconds(100).Ticks, bucket.WaitTicks(TenPerSecondBurstFive, now));
    }

    [Fact]
    public void TryTake_AfterEmissionInterval_AdmitsOneMore()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(55));
        var bucket = new GcraBucket();
        while (bucket.TryTake(TenPerSecondBurstFive, time.GetUtcNow().UtcTicks))
        {
        }

        time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(bucket.TryTake(TenPerSecondBurstFive, time.GetUtcNow().UtcTicks));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(bucket.TryTake(TenPerSecondBurstFive, time.GetUtcNow().UtcTicks));
        Assert.False(bucket.TryTake(TenPerSecondBurstFive, time.GetUtcNow().UtcTicks));
    }

    [Fact]
    public void TakeUpTo_MoreThanAvailable_TakesWhatConforms()
    {
        var now = DateTimeOffset.UnixEpoch.AddYears(55).UtcTicks;
        var bucket = new GcraBucket();

        Assert.Equal(5, bucket.TakeUpTo(TenPerSecondBurstFive, now, 9));
        Assert.Equal(0, bucket.TakeUpTo(TenPerSecondBurstFive, now, 9));
    }

    [Fact]
    public void Return_UnusedTokens_NeverFillsBeyondBurst()
    {
        var now = DateTimeOffset.UnixEpoch.AddYears(55).UtcTicks;
        var bucket = new GcraBucket();
        bucket.TakeUpTo(TenPerSecondBurstFive, now, 3);

        bucket.Return(TenPerSecondBurstFive, now, 10);

        Assert.Equal(5, bucket.Available(TenPerSecondBurstFive, now));
        Assert.True(bucket.IsFull(now));
    }

    [Theory]
    [InlineData(1, 3, 3)]
    [InlineData(4, 2, 4)]
    [InlineData(0, 5, 5)]
    public void Merge_OtherCopyOfBucket_KeepsTheLargerDebt(long mine, long theirs, long expectedTaken)
    {
        var now = DateTimeOffset.UnixEpoch.AddYears(55).UtcTicks;
        var bucket = new GcraBucket();
        var other = new GcraBucket();
        bucket.TakeUpTo(TenPerSecondBurstFive, now, mine);
        other.TakeUpTo(TenPerSecondBurstFive, now, theirs);

        bucket.Merge(other.TheoreticalArrival);

        Assert.Equal(5 - expectedTaken, bucket.Available(TenPerSecondBurstFive, now));
    }

    [Fact]
    public void Available_PolicyShrunk_NeverNegative()
    {
        var now = DateTimeOffset.UnixEpoch.AddYears(55).UtcTicks;
        var bucket = new GcraBucket();
        bucket.TakeUpTo(new RateLimitRate(100, TimeSpan.TicksPerSecond, 100), now, 100);

        Assert.Equal(0, bucket.Available(new RateLimitRate(1, TimeSpan.TicksPerSecond, 1), now));
        Assert.True(bucket.WaitTicks(new RateLimitRate(1, TimeSpan.TicksPerSecond, 1), now) > 0);
    }

    /// <summary>
    /// Random arrivals (bursts, gaps, steady overload) against the contract's invariant, checked over every interval
    /// between two admitted requests, and against an oracle bucket in exact rational arithmetic for the lower side.
    /// </summary>
    [Theory]
    [MemberData(nameof(Policies))]
    public void TryTake_RandomArrivals_AdmittedInAnyIntervalWithinBoundAndNearOracle(long requests, long periodMs, long burst, int seed)
    {
        var rate = new RateLimitRate(requests, TimeSpan.FromMilliseconds(periodMs).Ticks, burst);
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(55));
        var random = new Random(seed);
        var bucket = new GcraBucket();
        var oracle = new OracleBucket(requests, rate.PeriodTicks, burst, time.GetUtcNow().UtcTicks);
        var admitted = new List<long>();
        var oracleAdmitted = 0;
        for (var i = 0; i < 3000; i++)
        {
            time.Advance(TimeSpan.FromTicks(NextGap(random, rate)));
            var now = time.GetUtcNow().UtcTicks;
            if (bucket.TryTake(rate, now))
            {
                admitted.Add(now);
            }

            if (oracle.TryTake(now))
            {
                oracleAdmitted++;
            }
        }

        AssertWithinBound(admitted, rate, extraTicks: 0);
        Assert.InRange(admitted.Count, oracleAdmitted * 0.99 - 1, oracleAdmitted);
    }

    /// <summary>
    /// Fast mode at the algorithm level: several edges lease from one bucket, spend their tokens at random moments within a
    /// lease's life and give back the unused ones while young enough. Admissions stay within the bound plus 0.2 s of refill.
    /// </summary>
    [Theory]
    [MemberData(nameof(Policies))]
    public void TakeUpTo_LeasesSpentByManyEdges_AdmittedWithinFastBound(long requests, long periodMs, long burst, int seed)
    {
        var rate = new RateLimitRate(requests, TimeSpan.FromMilliseconds(periodMs).Ticks, burst);
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(55));
        var random = new Random(seed);
        var bucket = new GcraBucket();
        var edges = Enumerable.Range(0, 5).Select(_ => new SimulatedEdge()).ToArray();
        var admitted = new List<long>();
        for (var i = 0; i < 6000; i++)
        {
            time.Advance(TimeSpan.FromTicks(random.NextInt64(0, TimeSpan.TicksPerMillisecond * 5)));
            var now = time.GetUtcNow().UtcTicks;
            var edge = edges[random.Next(edges.Length)];
            if (edge.Tokens > 0 && now >= edge.ExpiresAt)
            {
                edge.Returning = edge.Tokens;
                edge.ReturnTakenAt = edge.TakenAt;
                edge.Tokens = 0;
            }

            if (edge.Tokens == 0)
            {
                var returning = now - edge.ReturnTakenAt <= RateLimitRate.MaxReturnAgeTicks ? edge.Returning : 0;
                bucket.Return(rate, now, Math.Min(returning, rate.MaxLease));
                edge.Returning = 0;
                edge.Tokens = bucket.TakeUpTo(rate, now, Math.Min(random.NextInt64(1, 50), rate.MaxLease));
                edge.TakenAt = now;
                edge.ExpiresAt = now + RateLimitRate.MaxLeaseTicks;
            }

            if (edge.Tokens > 0)
            {
                edge.Tokens--;
                admitted.Add(now);
            }
        }

        Assert.NotEmpty(admitted);
        AssertWithinBound(admitted, rate, extraTicks: TimeSpan.FromMilliseconds(200).Ticks);
    }

    /// <summary>
    /// Coalesced exact mode: from random bucket states, a batch of N taken at one instant grants exactly what N sequential
    /// single takes at that instant admit, and leaves the bucket (and what it reports) exactly as they would.
    /// </summary>
    [Theory]
    [MemberData(nameof(Policies))]
    public void TakeUpTo_RandomStatesAndBatchSizes_EqualsSequentialSingleTakes(long requests, long periodMs, long burst, int seed)
    {
        var rate = new RateLimitRate(requests, TimeSpan.FromMilliseconds(periodMs).Ticks, burst);
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(55));
        var random = new Random(seed);
        var batched = new GcraBucket();
        var sequential = new GcraBucket();
        for (var i = 0; i < 3000; i++)
        {
            time.Advance(TimeSpan.FromTicks(NextGap(random, rate)));
            var now = time.GetUtcNow().UtcTicks;
            var count = random.Next(4) == 0 ? random.NextInt64(0, 3) : random.NextInt64(0, (burst * 2) + 2);

            var granted = batched.TakeUpTo(rate, now, count);
            var admitted = 0L;
            var singles = new List<bool>();
            for (var n = 0; n < count; n++)
            {
                var ok = sequential.TryTake(rate, now);
                singles.Add(ok);
                admitted += ok ? 1 : 0;
            }

            Assert.Equal(admitted, granted);
            Assert.True(singles.Take((int)granted).All(ok => ok) && singles.Skip((int)granted).All(ok => !ok), "the admitted ones come first");
            Assert.Equal(sequential.TheoreticalArrival, batched.TheoreticalArrival);
            Assert.Equal(sequential.Grant(rate, now, admitted), batched.Grant(rate, now, granted));
        }
    }

    private static long NextGap(Random random, RateLimitRate rate) => random.Next(4) switch
    {
        0 => 0,                                                   // same instant (burst)
        1 => random.NextInt64(0, rate.EmissionTicks / 4 + 1),     // overload
        2 => random.NextInt64(0, rate.EmissionTicks * 2),         // around the rate
        _ => random.NextInt64(0, rate.PeriodTicks),               // gaps
    };

    private static void AssertWithinBound(List<long> admitted, RateLimitRate rate, long extraTicks)
    {
        for (var i = 0; i < admitted.Count; i++)
        {
            for (var j = i; j < admitted.Count; j++)
            {
                var t = admitted[j] - admitted[i];
                if (t > rate.PeriodTicks * 4)
                {
                    break;
                }

                var count = j - i + 1;
                var bound = rate.Burst + ((double)rate.Requests * (t + extraTicks) / rate.PeriodTicks);
                // The message is built only on failure: this runs millions of times.
                if (count > bound + 1e-9)
                {
                    Assert.Fail($"{count} admitted in {TimeSpan.FromTicks(t)} > bound {bound:F3}");
                }
            }
        }
    }

    /// <summary>A token bucket in exact rational arithmetic (tokens scaled by the period).</summary>
    private sealed class OracleBucket(long requests, long periodTicks, long burst, long start)
    {
        private readonly Int128 _capacity = (Int128)burst * periodTicks;
        private Int128 _scaledTokens = (Int128)burst * periodTicks;
        private long _last = start;

        public bool TryTake(long now)
        {
            _scaledTokens = Int128.Min(_capacity, _scaledTokens + ((Int128)(now - _last) * requests));
            _last = now;
            if (_scaledTokens < periodTicks)
            {
                return false;
            }

            _scaledTokens -= periodTicks;
            return true;
        }
    }

    private sealed class SimulatedEdge
    {
        public long Tokens { get; set; }

        public long ExpiresAt { get; set; }

        public long TakenAt { get; set; }

        public long Returning { get; set; }

        public long ReturnTakenAt { get; set; }
    }
}
