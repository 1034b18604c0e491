using Gateway.Grains.Contracts;
using Gateway.Grains.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Gateway.Grains.Tests.RateLimiting;

/// <summary>One in-process silo shared by the grain tests, on a fake clock (time never moves unless a test moves it).</summary>
public sealed class RateLimitClusterFixture : IAsyncLifetime
{
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UnixEpoch.AddYears(55));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.RateLimits);
            silo.Services.AddKeyedSingleton<TimeProvider>(RateLimitClock.Key, Time);
            silo.AddRateLimitShardWarmUp();
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

public sealed class RateLimitShardGrainTests(RateLimitClusterFixture fixture) : IClassFixture<RateLimitClusterFixture>
{
    private static readonly RateLimitRate FivePerSecond = new(5, TimeSpan.TicksPerSecond, 5);

    private readonly InProcessTestCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task AcquireAsync_BeyondBurst_DeniesWithWaitUntilNextToken()
    {
        var (shard, bucket) = Bucket("ip:10.0.0.1");

        var grants = new List<RateLimitGrant>();
        for (var i = 0; i < 6; i++)
        {
            grants.Add(await shard.AcquireAsync(bucket, FivePerSecond));
        }

        Assert.Equal([1, 1, 1, 1, 1, 0], grants.Select(g => g.Granted));
        Assert.Equal([4, 3, 2, 1, 0, 0], grants.Select(g => g.Remaining));
        Assert.Equal(TimeSpan.FromMilliseconds(200).Ticks, grants[^1].WaitTicks);
    }

    [Fact]
    public async Task AcquireBatchAsync_SeveralBucketsInOneCall_EachGrantsWhatSequentialAcquiresWould()
    {
        // Two buckets of one shard asked together (one of them twice), next to twins asked one request at a time.
        var buckets = BucketsOfOneShard("ip:10.0.1.", 4);
        var shard = _cluster.Client.GetGrain<IRateLimitShardGrain>(RateLimitKeys.Shard(buckets[0]));
        await shard.AcquireAsync(buckets[0], FivePerSecond);
        await shard.AcquireAsync(buckets[2], FivePerSecond);

        var batch = await shard.AcquireBatchAsync(new RateLimitAsks(
        [
            new RateLimitAsk(buckets[0], FivePerSecond, 3),
            new RateLimitAsk(buckets[1], FivePerSecond, 7),
            new RateLimitAsk(buckets[0], FivePerSecond, 3),
        ]));
        var first = await SequentialAsync(shard, buckets[2], 3);
        var second = await SequentialAsync(shard, buckets[3], 7);
        var third = await SequentialAsync(shard, buckets[2], 3);

        Assert.Equal([3, 5, 1], batch.Items.Select(g => g.Granted));
        Assert.Equal([first, second, third], batch.Items);
    }

    [Fact]
    public async Task AcquireAsync_AfterShardDeactivation_RestoresBucketInsteadOfFreshOne()
    {
        var (shard, bucket) = Bucket("user:alice");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(1, (await shard.AcquireAsync(bucket, FivePerSecond)).Granted);
        }

        await _cluster.DeactivateAsync(shard);
        var after = await shard.AcquireAsync(bucket, FivePerSecond);

        Assert.Equal(0, after.Granted);
    }

    [Fact]
    public async Task DeactivateAsync_AnotherActivationSavedMeanwhile_KeepsTheLargerDebtOfEachBucket()
    {
        var buckets = BucketsOfOneShard("ip:10.0.2.", 2);
        var shard = _cluster.Client.GetGrain<IRateLimitShardGrain>(RateLimitKeys.Shard(buckets[0]));
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(1, (await shard.AcquireAsync(buckets[0], FivePerSecond)).Granted);
        }

        // A second activation of this shard (what a membership change can create) saves a debt of one token in the first
        // bucket and of five in a bucket this one never saw, behind this activation's back: its own save meets a newer version.
        var storage = ((InProcessSiloHandle)_cluster.Silos[0]).ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.RateLimits);
        var stored = new GrainState<RateLimitShardState>(new RateLimitShardState());
        await storage.ReadStateAsync("shard", shard.GetGrainId(), stored);
        var now = fixture.Time.GetUtcNow().UtcTicks;
        stored.State = new RateLimitShardState
        {
            Buckets = new(StringComparer.Ordinal) { [buckets[0]] = now + FivePerSecond.EmissionTicks, [buckets[1]] = now + (5 * FivePerSecond.EmissionTicks) },
        };
        await storage.WriteStateAsync("shard", shard.GetGrainId(), stored);

        await _cluster.DeactivateAsync(shard);
        var mine = await shard.AcquireAsync(buckets[0], FivePerSecond);
        var theirs = await shard.AcquireAsync(buckets[1], FivePerSecond);

        // Its four tokens stay taken (the larger debt wins), not the other copy's one; the other copy's bucket stays empty.
        Assert.Equal((1, 0), (mine.Granted, mine.Remaining));
        Assert.Equal(0, theirs.Granted);
    }

    [Fact]
    public async Task LeaseAsync_WantMoreThanLeaseCap_GrantsAtMostWhatRefillsInLeaseLife()
    {
        var fast = new RateLimitRate(1000, TimeSpan.TicksPerSecond, 1000);
        var (shard, bucket) = Bucket("ip:10.0.0.2");

        var grant = await shard.LeaseAsync(bucket, fast, want: 500, returning: 0);

        Assert.Equal(fast.MaxLease, grant.Granted);
        Assert.Equal(80, fast.MaxLease);
        Assert.Equal(1000 - 80, grant.Remaining);
    }

    [Fact]
    public async Task LeaseAsync_ReturningUnused_TokensAvailableAgain()
    {
        var (shard, bucket) = Bucket("ip:10.0.0.3");
        var first = await shard.LeaseAsync(bucket, FivePerSecond, want: 1, returning: 0);

        var second = await shard.LeaseAsync(bucket, FivePerSecond, want: 0, returning: first.Granted);

        Assert.Equal(1, first.Granted);
        Assert.Equal(5, second.Remaining);
    }

    [Fact]
    public async Task PeekAsync_AfterUse_ReportsRemainingWithoutTaking()
    {
        var (shard, bucket) = Bucket("ip:10.0.0.4");
        await shard.AcquireAsync(bucket, FivePerSecond);

        var first = await shard.PeekAsync(bucket, FivePerSecond);
        var second = await shard.PeekAsync(bucket, FivePerSecond);

        Assert.Equal(4, first.Remaining);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task AcquireAsync_PolicyChanged_NewRateAppliesToLiveBucket()
    {
        var (shard, bucket) = Bucket("ip:10.0.0.5");
        await shard.AcquireAsync(bucket, FivePerSecond);

        var bigger = await shard.AcquireAsync(bucket, new RateLimitRate(50, TimeSpan.TicksPerSecond, 50));

        // The debt is kept in time (0.2 s), which the new rate reads as 10 tokens.
        Assert.Equal(1, bigger.Granted);
        Assert.Equal(50 - 10 - 1, bigger.Remaining);
    }

    [Fact]
    public async Task DeployAsync_SiloStarted_EveryShardActiveBeforeAnyDecision()
    {
        var management = _cluster.Client.GetGrain<IManagementGrain>(0);

        var statistics = await management.GetSimpleGrainStatistics();

        var shards = statistics.Where(s => s.GrainType.Contains(nameof(RateLimitShardGrain), StringComparison.Ordinal)).Sum(s => s.ActivationCount);
        Assert.Equal(RateLimitKeys.ShardCount, shards);
    }

    /// <summary><paramref name="count"/> distinct buckets of the default policy that live in one shard.</summary>
    internal static List<string> BucketsOfOneShard(string prefix, int count)
    {
        var buckets = Enumerable.Range(0, 10_000).Select(i => RateLimitKeys.Bucket("default", prefix + i)).ToList();
        var shard = RateLimitKeys.Shard(buckets[0]);
        return buckets.Where(b => RateLimitKeys.Shard(b) == shard).Take(count).ToList();
    }

    private (IRateLimitShardGrain Shard, string Bucket) Bucket(string client)
    {
        var bucket = RateLimitKeys.Bucket("default", client);
        return (_cluster.Client.GetGrain<IRateLimitShardGrain>(RateLimitKeys.Shard(bucket)), bucket);
    }

    private static async Task<RateLimitGrant> SequentialAsync(IRateLimitShardGrain shard, string bucket, int count)
    {
        RateLimitGrant? last = null;
        long granted = 0;
        for (var i = 0; i < count; i++)
        {
            last = await shard.AcquireAsync(bucket, FivePerSecond);
            granted += last.Granted;
        }

        return last! with { Granted = granted };
    }
}
