using System.Diagnostics;
using System.Net;

namespace Gateway.Cluster.Tests.Clustering;

/// <summary>Two silos and two edges as real processes over a real redis-server; extra silos are added to be killed.</summary>
public sealed class ClusterMembershipTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private LocalCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _cluster = await LocalCluster.StartAsync(
            _upstream.EchoConfig(),
            silos: 2,
            edges: 2);
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Start_TwoSilosTwoEdges_SilosActiveAndBothEdgesProxy()
    {
        var members = await MembershipTable.ReadAsync(_cluster.Redis, LocalCluster.ServiceId, _cluster.ClusterId);
        Assert.Equal(_cluster.Silos.Select(s => s.SiloPort).Order(), members.Where(m => m.Value == "Active").Select(m => m.Key).Order());

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

    private async Task WaitForStatusAsync(int siloPort, string status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        Dictionary<int, string> members;
        do
        {
            members = await MembershipTable.ReadAsync(_cluster.Redis, LocalCluster.ServiceId, _cluster.ClusterId);
            if (members.GetValueOrDefault(siloPort) == status)
            {
                return;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"silo {siloPort} not {status} after {timeout}: {string.Join(", ", members.Select(m => $"{m.Key}={m.Value}"))}");
    }
}
