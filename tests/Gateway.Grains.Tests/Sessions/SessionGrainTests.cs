using Gateway.Grains.Contracts;
using Gateway.Grains.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Gateway.Grains.Tests.Sessions;

/// <summary>One in-process silo for the session grain tests, its session clock a <see cref="FakeTimeProvider"/>.</summary>
public sealed class SessionClusterFixture : IAsyncLifetime
{
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UnixEpoch.AddYears(56));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Sessions, options => options.GrainStorageSerializer = SessionStorage.Serializer);
            silo.Services.AddKeyedSingleton<TimeProvider>(SessionClock.Key, Time);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

public sealed class SessionGrainTests(SessionClusterFixture fixture) : IClassFixture<SessionClusterFixture>
{
    private static readonly SessionIdentity Alice = new("alice", "pro", ["admin"]);

    private readonly FakeTimeProvider _time = fixture.Time;
    private readonly IGrainFactory _grains = fixture.Cluster.Client;

    [Fact]
    public async Task TouchAsync_EveryFewMinutes_EndsAtMaxLifetime()
    {
        var grain = _grains.GetGrain<ISessionGrain>("max-lifetime-" + Guid.NewGuid().ToString("N"));
        var created = _time.GetUtcNow();

        var first = await grain.CreateAsync(Alice, TimeSpan.FromMinutes(10), TimeSpan.FromHours(1));

        Assert.Equal(created + TimeSpan.FromMinutes(10), first.ExpiresAt);
        SessionLookup lookup = SessionLookup.Expired;
        for (var elapsed = TimeSpan.FromMinutes(5); elapsed < TimeSpan.FromHours(1); elapsed += TimeSpan.FromMinutes(5))
        {
            _time.Advance(TimeSpan.FromMinutes(5));
            lookup = await grain.TouchAsync();
            Assert.Equal(SessionStatus.Active, lookup.Status);
        }

        // Slid by use until the absolute end came closer than the idle TTL, then capped there.
        Assert.Equal(created + TimeSpan.FromHours(1), lookup.Session!.ExpiresAt);
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(SessionStatus.Expired, (await grain.TouchAsync()).Status);
    }

    [Fact]
    public async Task CreateAsync_MaxLifetimeShorterThanTtl_ExpiresAtMaxLifetime()
    {
        var grain = _grains.GetGrain<ISessionGrain>("short-" + Guid.NewGuid().ToString("N"));
        var created = _time.GetUtcNow();

        var session = await grain.CreateAsync(Alice, TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(5));

        Assert.Equal(created + TimeSpan.FromMinutes(5), session.ExpiresAt);
    }

    [Fact]
    public async Task CreateAsync_CallerWithoutMaxLifetime_GetsTheDefault()
    {
        var grain = _grains.GetGrain<ISessionGrain>("legacy-" + Guid.NewGuid().ToString("N"));
        var created = _time.GetUtcNow();
        await grain.CreateAsync(Alice, TimeSpan.FromHours(20), TimeSpan.Zero);

        _time.Advance(TimeSpan.FromHours(19));
        var lookup = await grain.TouchAsync();

        Assert.Equal(created + SessionLimits.DefaultMaxLifetime, lookup.Session!.ExpiresAt);
    }
}
