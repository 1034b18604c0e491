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
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();

        // The first call to a new grain type pays for JIT and storage start-up; on a busy two-core CI machine that can
        // exceed the grain methods' 1 s response timeout. Pay it here, once, with a key no test uses.
        var warmUp = Cluster.Client.GetGrain<IRateLimitGrain>("warm-up|fixture");
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await warmUp.PeekAsync(new RateLimitRate(1, TimeSpan.TicksPerSecond, 1));
                break;
            }
            catch (TimeoutException) when (attempt < 5)
            {
                // still warming up
            }
        }
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

public sealed class RateLimitGrainTests(RateLimitClusterFixture fixture) : IClassFixture<RateLimitClusterFixture>
{
    private static readonly RateLimitRate FivePerSecond = new(5, TimeSpan.TicksPerSecond, 5);

    private readonly InProcessTestCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task AcquireAsync_BeyondBurst_DeniesWithWaitUntilNextToken()
    {
        var grain = _cluster.Client.GetGrain<IRateLimitGrain>(RateLimitKeys.Bucket("default", "ip:10.0.0.1"));

        var grants = new List<RateLimitGrant>();
        for (var i = 0; i < 6; i++)
        {
            grants.Add(await grain.AcquireAsync(FivePerSecond));
        }

        Assert.Equal([1, 1, 1, 1, 1, 0], grants.Select(g => g.Granted));
        Assert.Equal([4, 3, 2, 1, 0, 0], grants.Select(g => g.Remaining));
        Assert.Equal(TimeSpan.FromMilliseconds(200).Ticks, grants[^1].WaitTicks);
    }

    [Fact]
    public async Task AcquireManyAsync_BatchBeyondBurst_GrantsWhatSequentialAcquiresWould()
    {
        var batched = _cluster.Client.GetGrain<IRateLimitGrain>(RateLimitKeys.Bucket("default", "ip:10.0.1.2"));
        var sequential = _cluster.Client.GetGrain<IRateLimitGrain>(RateLimitKeys.Bucket("default", "ip:10.0.1.3"));
        await batched.AcquireManyAsync(FivePerSecond, 2);
        await sequential.AcquireAsync(FivePerSecond);
        await sequential.AcquireAsync(FivePerSecond);

        var grant = await batched.AcquireManyAsync(FivePerSecond, 7);
        var singles = new List<RateLimitGrant>();
        for (var i = 0; i < 7; i++)
        {
            singles.Add(await sequential.AcquireAsync(FivePerSecond));
        }

        Assert.Equal(singles.Sum(g => g.Granted), grant.Granted);
        Assert.Equal(3, grant.Granted);
        Assert.Equal(singles[^1].Remaining, grant.Remaining);
        Assert.Equal(singles[^1].WaitTicks, grant.WaitTicks);
        Assert.Equal(TimeSpan.FromMilliseconds(200).Ticks, grant.WaitTicks);
    }

    [Fact]
    public async Task AcquireAsync_AfterDeactivation_RestoresBucketInsteadOfFreshOne()
    {
        var grain = _cluster.Client.GetGrain<IRateLimitGrain>(RateLimitKeys.Bucket("default", "user:alice"));
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(1, (await grain.AcquireAsync(FivePerSecond)).Granted);
        }

        await _cluster.DeactivateAsync(grain);
        var after = await grain.AcquireAsync(FivePerSecond);

        Assert.Equal(0, after.Granted);
    }

    [Fact]
    public async Task DeactivateAsync_AnotherActivationSavedMeanwhile_KeepsTheLargerDebt()
    {
        var grain = _cluster.Client.GetGrain<IRateLimitGrain>(RateLimitKeys.Bucket("default", "ip:10.0.2.1"));
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(1, (await grain.AcquireAsync(FivePerSecond)).Granted);
        }

        // A second activation of this bucket (what a membership change can create) saves a debt of one token behind
        // this activation's back, so this one's own save meets a newer version.
        var storage = ((InProcessSiloHandle)_cluster.Silos[0]).ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.RateLimits);
        var stored = new GrainState<RateLimitBucketState>(new RateLimitBucketState());
        await storage.ReadStateAsync("bucket", grain.GetGrainId(), stored);
        stored.State = new RateLimitBucketState { TheoreticalArrival = fixture.Time.GetUtcNow().UtcTicks + FivePerSecond.EmissionTicks };
        await storage.WriteStateAsync("bucket", grain.GetGrainId(), stored);

        await _cluster.DeactivateAsync(grain);
        var after = await grain.AcquireAsync(FivePerSecond);

        // Its four tokens stay taken (the larger debt wins), not the other copy's one.
        Assert.Equal(1, after.Granted);
        Assert.Equal(0, after.Remaining);
    }

    [Fact]
    public async Task LeaseAsync_WantMoreThanLeaseCap_GrantsAtMostWhatRefillsInLeaseLife()
    {
        var fast = new RateLimitRate(1000, TimeSpan.TicksPerSecond, 1000);
        var grain = _cluster.Client.GetGrain<IRateLimitGrain>(RateLimitKeys.Bucket("default", "ip:10.0.0.2"));

        var grant = await grain.LeaseAsync(fast, want: 500, returning: 0);

        Assert.Equal(fast.MaxLease, grant.Granted);
        Assert.Equal(80, fast.MaxLease);
        Assert.Equal(1000 - 80, grant.Remaining);
    }

    [Fact]
    public async Task LeaseAsync_ReturningUnused_TokensAvailableAgain()
    {
        var grain = _cluster.Client.GetGrain<IRateLimitGrain>(RateLimitKeys.Bucket("default", "ip:10.0.0.3"));
        var first = await grain.LeaseAsync(FivePerSecond, want: 1, returning: 0);

        var second = await grain.LeaseAsync(FivePerSecond, want: 0, returning: first.Granted);

        Assert.Equal(1, first.Granted);
        Assert.Equal(5, second.Remaining);
    }

    [Fact]
    public async Task PeekAsync_AfterUse_ReportsRemainingWithoutTaking()
    {
        var grain = _cluster.Client.GetGrain<IRateLimitGrain>(RateLimitKeys.Bucket("default", "ip:10.0.0.4"));
        await grain.AcquireAsync(FivePerSecond);

        var first = await grain.PeekAsync(FivePerSecond);
        var second = await grain.PeekAsync(FivePerSecond);

        Assert.Equal(4, first.Remaining);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task AcquireAsync_PolicyChanged_NewRateAppliesToLiveBucket()
    {
        var grain = _cluster.Client.GetGrain<IRateLimitGrain>(RateLimitKeys.Bucket("default", "ip:10.0.0.5"));
        await grain.AcquireAsync(FivePerSecond);

        var bigger = await grain.AcquireAsync(new RateLimitRate(50, TimeSpan.TicksPerSecond, 50));

        // The debt is kept in time (0.2 s), which the new rate reads as 10 tokens.
        Assert.Equal(1, bigger.Granted);
        Assert.Equal(50 - 10 - 1, bigger.Remaining);
    }
}
