using System.Net;
using System.Text.Json;
using Gateway.Cluster.Tests.Infrastructure;

namespace Gateway.Cluster.Tests.Observability;

/// <summary>
/// A grain call that fails because no silo is left is logged at ERROR with the correlation id of the request that
/// made it. The test kills the cluster's only silo, so the cluster is its own.
/// </summary>
public sealed class ReadinessLogTests() : ClusterFixture(silos: 1, edges: 1)
{
    [Fact]
    public async Task ReadinessProbe_NoSiloLeft_GrainCallFailureLoggedAtErrorWithCorrelationId()
    {
        var edge = Cluster.Edges[0];
        Cluster.Silos[0].Process.Signal(ChildProcess.SigKill);
        await Cluster.Silos[0].Process.WaitForExitAsync(TimeSpan.FromSeconds(10));

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/health/ready", UriKind.Relative));
        request.Headers.Add("X-Correlation-ID", "ready-no-silo");
        using var response = await edge.Client.SendAsync(request);
        var line = await ClusterLogTests.WaitForLineAsync(edge.Process, l => l.Contains("\"correlation_id\":\"ready-no-silo\"", StringComparison.Ordinal) && l.Contains("\"level\":\"ERROR\"", StringComparison.Ordinal), "an ERROR line with correlation id ready-no-silo");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var json = JsonDocument.Parse(line);
        Assert.Equal("ERROR", json.RootElement.GetProperty("level").GetString());
        Assert.Equal("ready-no-silo", json.RootElement.GetProperty("correlation_id").GetString());
        Assert.Equal("grain_cluster", json.RootElement.GetProperty("health_check_name").GetString());
    }

    protected override string Config(TestUpstream upstream) => upstream.EchoConfig();
}
