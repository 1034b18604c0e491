using Gateway.Faults;
using Xunit.Abstractions;

namespace Gateway.Cluster.Tests.Reliability;

/// <summary>
/// The CI subset of the fault suite (<c>scripts/faults.sh</c>): kill -9 and SIGSTOP of a silo, rolling restart, Redis outage and
/// cold clients, the same scenarios, shorter, on one cluster of real
/// processes (2 silos, 3 edges, redis-server) shared by the class. Each scenario leaves the cluster whole, so their order
/// does not matter. Each asserts its row's "must hold". They carry the <c>Faults</c> category: <c>scripts/faults.sh subset</c>
/// runs them alone, and <c>scripts/test.sh</c> runs them last, with nothing beside them (see docs/reliability.md).
/// </summary>
[Trait("Category", "Faults")]
public sealed class ReliabilityTests(ReliabilityTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<ReliabilityTests.Fixture>
{
    [Fact]
    public async Task KillSilo_UnderLoad_OnlyInFlightRequestsFailAndLimitHolds()
    {
        var result = await ProcessFaults.KillSiloAsync(fixture.Cluster, TimeSpan.FromSeconds(6));

        output.WriteLine(Describe(result));
        Assert.True(result.Holds, Describe(result));
    }

    [Fact]
    public async Task FreezeSilo_TenSecondsUnderLoad_ErrorsEndWithinThreeSecondsAndSiloStops()
    {
        var result = await ProcessFaults.FreezeSiloAsync(fixture.Cluster, TimeSpan.FromSeconds(10));

        output.WriteLine(Describe(result));
        Assert.True(result.Holds, Describe(result));
    }

    [Fact]
    public async Task RollingRestart_EverySiloThenEveryEdge_NoRequestFails()
    {
        var result = await ProcessFaults.RollingRestartAsync(fixture.Cluster);

        output.WriteLine(Describe(result));
        Assert.True(result.Holds, Describe(result));
    }

    [Fact]
    public async Task RedisStopped_UnderLoad_ProxiedRequestsServedAndLoginsRecover()
    {
        var result = await RedisFaults.RedisStoppedAsync(fixture.Cluster, TimeSpan.FromSeconds(8));

        output.WriteLine(Describe(result));
        Assert.True(result.Holds, Describe(result));
    }

    [Fact]
    public async Task ColdClients_ThreeHundredAtOnce_OverAdmissionWithinOnePercent()
    {
        var result = await LoadFaults.ColdClientsAsync(fixture.Cluster, 300);

        output.WriteLine(Describe(result));
        Assert.True(result.Holds, Describe(result));
    }

    private static string Describe(ScenarioResult result) =>
        $"{result.Scenario}: must hold \"{result.MustHold}\"; broke: {result.WhatBroke}; {result.Figures}";

    public sealed class Fixture : IAsyncLifetime
    {
        public FaultCluster Cluster { get; private set; } = null!;

        public async Task InitializeAsync() => Cluster = await FaultCluster.StartAsync();

        public async Task DisposeAsync()
        {
            if (Cluster is not null)
            {
                await Cluster.DisposeAsync();
            }
        }
    }
}
