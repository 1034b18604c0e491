using System.Diagnostics;
using System.Net;
using Gateway.Cluster.Tests.Infrastructure;

namespace Gateway.Cluster.Tests.Clustering;

/// <summary>
/// Two silos and two edges as real processes over a real redis-server, shared by the tests of this class: a test that
/// kills or stops a silo adds that silo itself and takes it out of the cluster's list again, so the shared nodes stay up.
/// </summary>
[Collection(ClusterMembershipTests.Fixture.Collection)]
public sealed class ClusterMembershipTests(ClusterMembershipTests.Fixture fixture) : IAsyncLifetime
{
    private readonly LocalCluster _cluster = fixture.Cluster;
    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Ends the silos a test added (already dead or gone), so the next test sees only the shared ones.</summary>
    public Task DisposeAsync() => fixture.RemoveAddedNodesAsync();

    [Fact]
    public async Task Start_TwoSilosTwoEdges_SilosActiveAndBothEdgesProxy()
    {
        var members = await MembershipTable.ReadAsync(_cluster.Redis, LocalCluster.ServiceId, _cluster.ClusterId);
        Assert.Equal(_cluster.Silos.Select(s => s.SiloPort).Order(), members.Where(m => m.Value == "Active").Select(m => m.Key).Order());
        Assert.Equal(Fixture.Silos, _cluster.Silos.Count);

        foreach (var edge in _cluster.Edges)
        {
            using var response = await edge.Client.GetAsync(new Uri("/api/hello", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var ready = await edge.Client.GetStringAsync(new Uri("/health/ready", UriKind.Relative));
            Assert.Contains("\"grain_cluster\":{\"status\":\"Healthy\"", ready, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task KillSilo_Sigkill_DeclaredDeadWithinSecondsAndEdgesStayReady()
    {
        var victim = _cluster.AddSilo();
        await victim.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await WaitForStatusAsync(victim.SiloPort, "Active", TimeSpan.FromSeconds(30));

        var clock = Stopwatch.StartNew();
        victim.Process.Signal(ChildProcess.SigKill);
        await WaitForStatusAsync(victim.SiloPort, "Dead", TimeSpan.FromSeconds(10));
        clock.Stop();

        // The issue asks for about 2 s instead of the defaults' tens of seconds; 5 s bounds a slow CI machine.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"declared dead after {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var edge in _cluster.Edges)
        {
            await edge.WaitReadyAsync(TimeSpan.FromSeconds(10));
            using var response = await edge.Client.GetAsync(new Uri("/api/after-kill", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task TerminateSilo_Sigterm_LeavesClusterAndExitsCleanly()
    {
        var leaving = _cluster.AddSilo();
        await leaving.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await WaitForStatusAsync(leaving.SiloPort, "Active", TimeSpan.FromSeconds(30));

        leaving.Process.Signal(ChildProcess.SigTerm);
        var exitCode = await leaving.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, exitCode);
        var members = await MembershipTable.ReadAsync(_cluster.Redis, LocalCluster.ServiceId, _cluster.ClusterId);
        Assert.Equal("Dead", members[leaving.SiloPort]);
        Assert.All(_cluster.Silos.Where(s => s != leaving), s => Assert.Equal("Active", members[s.SiloPort]));
    }

    private async Task WaitForStatusAsync(int siloPort, string status, TimeSpan timeout) =>
        await Eventually.UntilAsync(
            () => MembershipTable.ReadAsync(_cluster.Redis, LocalCluster.ServiceId, _cluster.ClusterId),
            members => members.GetValueOrDefault(siloPort) == status,
            timeout,
            $"silo {siloPort} {status} in the membership table",
            TimeSpan.FromMilliseconds(50));

    public sealed class Fixture() : ClusterFixture(Silos, edges: 2)
    {
        public const string Collection = "membership cluster";

        /// <summary>The shared silos, which no test stops.</summary>
        public const int Silos = 2;

        protected override string Config(TestUpstream upstream) => upstream.EchoConfig(rateLimited: false);
    }
}

/// <summary>The classes that share one <see cref="ClusterMembershipTests.Fixture"/>: each adds the nodes it stops.</summary>
[CollectionDefinition(ClusterMembershipTests.Fixture.Collection)]
public sealed class MembershipClusterDefinition : ICollectionFixture<ClusterMembershipTests.Fixture>;
