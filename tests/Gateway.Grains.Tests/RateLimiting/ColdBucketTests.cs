using Gateway.Grains.Contracts;
using Gateway.Grains.RateLimiting;
using Gateway.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Storage;
using Orleans.TestingHost;
using StackExchange.Redis;

namespace Gateway.Grains.Tests.RateLimiting;

/// <summary>
/// A silo with rate-limit checkpoints in a real redis-server, as in clustered mode: the first decision of a new client
/// must not wait for an activation or a checkpoint read.
/// </summary>
public sealed class ColdBucketTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch.AddYears(55));
    private RedisServer _redis = null!;
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddRedisGrainStorage(StorageNames.RateLimits, options =>
            {
                options.ConfigurationOptions = ConfigurationOptions.Parse(_redis.ConnectionString);
                options.DeleteStateOnClear = true;
            });
            silo.Services.AddKeyedSingleton<TimeProvider>(RateLimitClock.Key, _time);
            silo.AddRateLimitShardWarmUp();
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task AcquireAsync_NewClientsWhileRedisIsDown_DecidedWithoutCheckpointReads()
    {
        // The silo started and warmed its shards (one checkpoint read each). Without Redis, any read or activation that
        // needs storage fails: a new client in every shard is still decided, so its first decision needed neither.
        await _redis.StopAsync();
        var rate = new RateLimitRate(5, TimeSpan.TicksPerSecond, 5);
        var clients = Enumerable.Range(0, 5_000).Select(i => RateLimitKeys.Bucket("default", "ip:192.0.2." + i)).ToList();
        var oneEach = clients.GroupBy(RateLimitKeys.Shard).Select(g => g.First()).ToList();

        var grants = await Task.WhenAll(oneEach.Select(bucket =>
            _cluster.Client.GetGrain<IRateLimitShardGrain>(RateLimitKeys.Shard(bucket)).AcquireAsync(bucket, rate).AsTask()));

        Assert.Equal(RateLimitKeys.ShardCount, oneEach.Count);
        Assert.All(grants, grant => Assert.Equal((1, 4), (grant.Granted, grant.Remaining)));
    }

    [Fact]
    public async Task AcquireAsync_ShardRestartedFromRedis_BucketKeepsItsDebt()
    {
        var rate = new RateLimitRate(5, TimeSpan.TicksPerSecond, 5);
        var bucket = RateLimitKeys.Bucket("default", "user:carol");
        var shard = _cluster.Client.GetGrain<IRateLimitShardGrain>(RateLimitKeys.Shard(bucket));
        for (var i = 0; i < 5; i++)
        {
            await shard.AcquireAsync(bucket, rate);
        }

        await _cluster.DeactivateAsync(shard);
        var after = await shard.AcquireAsync(bucket, rate);

        Assert.Equal(0, after.Granted);
    }

    [Fact]
    public async Task Checkpoint_BucketInDebtThenFullAgain_WrittenThenDeleted()
    {
        var rate = new RateLimitRate(5, TimeSpan.TicksPerSecond, 5);
        var bucket = RateLimitKeys.Bucket("default", "user:dave");
        var shard = _cluster.Client.GetGrain<IRateLimitShardGrain>(RateLimitKeys.Shard(bucket));
        var storage = ((InProcessSiloHandle)_cluster.Silos[0]).ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.RateLimits);
        async Task<Dictionary<string, long>?> StoredAsync()
        {
            var state = new GrainState<RateLimitShardState>(new RateLimitShardState());
            await storage.ReadStateAsync("shard", shard.GetGrainId(), state);
            return state.RecordExists ? state.State!.Buckets : null;
        }

        for (var i = 0; i < 5; i++)
        {
            await shard.AcquireAsync(bucket, rate);
        }

        // The shard's timer writes within its checkpoint delay (real time); the clock of the buckets stands still meanwhile.
        var written = await Eventually.UntilAsync(StoredAsync, stored => stored?.ContainsKey(bucket) == true, TimeSpan.FromSeconds(10), "the checkpoint holds the bucket in debt");
        _time.Advance(TimeSpan.FromSeconds(2));
        await Eventually.UntilAsync(async () => await StoredAsync() is null, TimeSpan.FromSeconds(10), "the checkpoint is deleted once the bucket is full");

        Assert.Equal(_time.GetUtcNow().UtcTicks - TimeSpan.FromSeconds(1).Ticks, written![bucket]);
    }
}
