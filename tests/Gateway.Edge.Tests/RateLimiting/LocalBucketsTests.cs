using Gateway.Edge.RateLimiting;
using Gateway.Hosting.Configuration;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Edge.Tests.RateLimiting;

public sealed class LocalBucketsTests
{
    private static readonly RateLimitPolicy TenPerTenSeconds = new(10, TimeSpan.FromSeconds(10), 10);

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Acquire_OneEdge_AdmitsBurstThenOneTokenPerEmission()
    {
        var buckets = new LocalBuckets(new EdgeClock(_time), new EdgeShare());

        var first = Enumerable.Range(0, 12).Select(_ => buckets.Acquire("default|ip:a", TenPerTenSeconds)).ToList();
        _time.Advance(TimeSpan.FromSeconds(1));
        var refilled = buckets.Acquire("default|ip:a", TenPerTenSeconds);

        Assert.Equal(10, first.Count(d => d.Allowed));
        Assert.Equal(9, first[0].Remaining);
        Assert.False(first[^1].Allowed);
        Assert.Equal(TimeSpan.FromSeconds(1), first[^1].RetryAfter);
        Assert.False(first[^1].BackendUnavailable);
        Assert.True(refilled.Allowed);
    }

    [Theory]
    [InlineData(2, 10)]
    [InlineData(3, 10)]
    [InlineData(4, 3)]
    [InlineData(5, 50)]
    public void Acquire_EdgesTogether_NeverAdmitMoreThanBurstPlusRefillOverTheOutage(int edges, long burst)
    {
        // Every edge hammers the same key every 10 ms for 25 s of outage.
        var policy = new RateLimitPolicy(10, TimeSpan.FromSeconds(10), burst);
        var fleet = Fleet(edges);
        var outage = TimeSpan.FromSeconds(25);
        var admitted = 0L;
        for (var elapsed = TimeSpan.Zero; elapsed <= outage; elapsed += TimeSpan.FromMilliseconds(10))
        {
            admitted += fleet.Count(buckets => buckets.Acquire("default|ip:hot", policy).Allowed);
            _time.Advance(TimeSpan.FromMilliseconds(10));
        }

        var bound = burst + (policy.Requests * outage.Ticks / policy.Period.Ticks);
        Assert.InRange(admitted, bound - edges - (burst < edges ? edges : 0), bound);
    }

    [Fact]
    public void Acquire_ThreeEdgesFiftyKeys_BurstSharesAddUpToThePolicyBurstForEveryKey()
    {
        var fleet = Fleet(3);
        var policy = new RateLimitPolicy(10, TimeSpan.FromMinutes(1), 5);

        for (var key = 0; key < 50; key++)
        {
            var admitted = fleet.Sum(buckets => Enumerable.Range(0, 5).Count(_ => buckets.Acquire($"default|ip:{key}", policy).Allowed));
            Assert.Equal(5, admitted);
        }
    }

    [Fact]
    public void Reconcile_AfterLocalAdmissions_ReturnsWhatWasAdmittedOnceAndLowersToTheGrainsRemainder()
    {
        var buckets = new LocalBuckets(new EdgeClock(_time), new EdgeShare());
        for (var i = 0; i < 3; i++)
        {
            buckets.Acquire("default|ip:a", TenPerTenSeconds);
        }

        var spent = buckets.Reconcile("default|ip:a", TenPerTenSeconds, grainRemaining: 1);
        var again = buckets.Reconcile("default|ip:a", TenPerTenSeconds, grainRemaining: 1);
        var afterReconcile = Enumerable.Range(0, 3).Count(_ => buckets.Acquire("default|ip:a", TenPerTenSeconds).Allowed);

        Assert.Equal(3, spent);
        Assert.Equal(0, again);
        Assert.Equal(1, afterReconcile);
        Assert.Equal(0, buckets.Reconcile("default|ip:unknown", TenPerTenSeconds, grainRemaining: 10));
    }

    [Fact]
    public void Reconcile_CreateForAKeyWithoutBucket_HoldsOnlyTheShareOfWhatTheGrainLeft()
    {
        var buckets = new LocalBuckets(new EdgeClock(_time), new EdgeShare());

        var spent = buckets.Reconcile("default|ip:new", TenPerTenSeconds, grainRemaining: 3, create: true);
        var admitted = Enumerable.Range(0, 5).Count(_ => buckets.Acquire("default|ip:new", TenPerTenSeconds).Allowed);

        Assert.Equal(0, spent);
        Assert.Equal(3, admitted);
    }

    [Fact]
    public void Acquire_WhileThisEdgeIsJoining_HoldsNoShareUntilItHasJoined()
    {
        var share = new EdgeShare();
        var buckets = new LocalBuckets(new EdgeClock(_time), share);
        share.Update(3, 0, settled: true, joining: true);

        var whileJoining = buckets.Acquire("default|ip:a", TenPerTenSeconds);
        share.Update(3, 0, settled: true, joining: false);
        var joined = buckets.Acquire("default|ip:a", TenPerTenSeconds);

        Assert.False(whileJoining.Allowed);
        Assert.False(whileJoining.BackendUnavailable);
        Assert.True(joined.Allowed);
    }

    [Fact]
    public void Update_SameViewAgain_ReportsNoChangeAndANewCountOrJoiningDoes()
    {
        var share = new EdgeShare();

        var first = share.Update(3, 1, settled: true);
        var same = share.Update(3, 1, settled: true);
        var joining = share.Update(3, 1, settled: true, joining: true);

        Assert.True(first);
        Assert.False(same);
        Assert.True(joining);
        Assert.True(share.Joining);
    }

    [Fact]
    public void Sweep_RefilledBucketsAreDroppedAndBusyOnesKept()
    {
        var buckets = new LocalBuckets(new EdgeClock(_time), new EdgeShare());
        buckets.Acquire("default|ip:idle", TenPerTenSeconds);
        _time.Advance(TimeSpan.FromSeconds(2));
        for (var i = 0; i < 10; i++)
        {
            buckets.Acquire("default|ip:busy", TenPerTenSeconds);
        }

        buckets.Sweep();

        Assert.Equal(1, buckets.Count);
        Assert.False(buckets.Acquire("default|ip:busy", TenPerTenSeconds).Allowed);
    }

    [Fact]
    public void Acquire_AtTheCapWithNothingRefilled_DeniesNewKeysWithoutGrowing()
    {
        var buckets = new LocalBuckets(new EdgeClock(_time), new EdgeShare());
        var policy = new RateLimitPolicy(1, TimeSpan.FromHours(1), 1);
        for (var i = 0; i < LocalBuckets.MaxBuckets; i++)
        {
            buckets.Acquire($"default|ip:{i}", policy);
        }

        var beyond = buckets.Acquire("default|ip:one-too-many", policy);

        Assert.False(beyond.Allowed);
        Assert.Equal(LocalBuckets.MaxBuckets, buckets.Count);
    }

    [Fact]
    public void Update_LowerCountFromUnsettledRegistry_IsIgnoredUntilSettled()
    {
        var share = new EdgeShare();
        share.Update(3, 2, settled: true);

        share.Update(1, 0, settled: false);
        var whileUnsettled = share.LiveEdges;
        share.Update(2, 1, settled: true);

        Assert.Equal(3, whileUnsettled);
        Assert.Equal(2, share.LiveEdges);
        Assert.Equal(1, share.Rank);
    }

    [Theory]
    [InlineData(10, 3)]
    [InlineData(2, 3)]
    [InlineData(7, 7)]
    [InlineData(100, 6)]
    public void BurstShare_OverEveryRank_AddsUpToTheBurst(long burst, int edges)
    {
        foreach (var hash in new uint[] { 0, 1, 2, 12345, uint.MaxValue })
        {
            var shares = Enumerable.Range(0, edges).Select(rank => EdgeShare.BurstShare(burst, edges, rank, hash)).ToList();
            Assert.Equal(burst, shares.Sum());
            Assert.True(shares.Max() - shares.Min() <= 1);
        }
    }

    private List<LocalBuckets> Fleet(int edges) => Enumerable.Range(0, edges).Select(rank =>
    {
        var share = new EdgeShare();
        share.Update(edges, rank, settled: true);
        return new LocalBuckets(new EdgeClock(_time), share);
    }).ToList();
}
