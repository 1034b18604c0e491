using Gateway.Grains.Contracts;

namespace Gateway.Grains.Tests.RateLimiting;

/// <summary>Each test uses a registry key of its own (the grain does not depend on its key), on the fixture's fake clock.</summary>
public sealed class EdgeRegistryGrainTests(RateLimitClusterFixture fixture) : IClassFixture<RateLimitClusterFixture>
{
    [Fact]
    public async Task HeartbeatAsync_ThreeEdges_CountsThemAndRanksByIdAndLeaveForgets()
    {
        var registry = fixture.Cluster.Client.GetGrain<IEdgeRegistryGrain>(101);

        await registry.HeartbeatAsync("edge-b");
        await registry.HeartbeatAsync("edge-c");
        await registry.HeartbeatAsync("edge-a");
        var b = await registry.HeartbeatAsync("edge-b");
        await registry.LeaveAsync("edge-a");
        var afterLeave = await registry.HeartbeatAsync("edge-c");

        Assert.Equal(3, b.LiveEdges);
        Assert.Equal(1, b.Rank);
        Assert.Equal(2, afterLeave.LiveEdges);
        Assert.Equal(1, afterLeave.Rank);
    }

    [Fact]
    public async Task HeartbeatAsync_EdgeSilentPastTheExpiry_IsNoLongerCountedAndRegistrySettles()
    {
        var registry = fixture.Cluster.Client.GetGrain<IEdgeRegistryGrain>(102);
        await registry.HeartbeatAsync("silent");
        var fresh = await registry.HeartbeatAsync("alive");

        fixture.Time.Advance(EdgeRegistry.HeartbeatInterval);
        await registry.HeartbeatAsync("alive");
        fixture.Time.Advance(EdgeRegistry.Expiry - EdgeRegistry.HeartbeatInterval + TimeSpan.FromSeconds(1));
        var later = await registry.HeartbeatAsync("alive");

        Assert.Equal(2, fresh.LiveEdges);
        Assert.False(fresh.Settled);
        Assert.Equal(1, later.LiveEdges);
        Assert.Equal(0, later.Rank);
        Assert.True(later.Settled);
    }

    [Fact]
    public async Task HeartbeatAsync_EdgeJoiningASettledRegistry_IsJoiningForTheJoinDelayOnly()
    {
        var registry = fixture.Cluster.Client.GetGrain<IEdgeRegistryGrain>(103);
        var early = await registry.HeartbeatAsync("early");
        fixture.Time.Advance(EdgeRegistry.HeartbeatInterval);
        await registry.HeartbeatAsync("early");
        fixture.Time.Advance(EdgeRegistry.HeartbeatInterval);
        await registry.HeartbeatAsync("early");
        fixture.Time.Advance(EdgeRegistry.HeartbeatInterval);
        var earlySettled = await registry.HeartbeatAsync("early");

        var joining = await registry.HeartbeatAsync("late");
        fixture.Time.Advance(EdgeRegistry.JoinDelay);
        await registry.HeartbeatAsync("early");
        var joined = await registry.HeartbeatAsync("late");

        Assert.False(early.Joining);
        Assert.True(earlySettled.Settled);
        Assert.False(earlySettled.Joining);
        Assert.True(joining.Joining);
        Assert.Equal(2, joining.LiveEdges);
        Assert.False(joined.Joining);
    }
}
