using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Gateway.Cluster.Tests.Observability;

/// <summary>
/// The stdout of real silo and edge processes: JSON lines and never a secret, whatever the traffic (that of the other
/// tests on the observed cluster included).
/// </summary>
[Collection(ObservedCluster.Collection)]
public sealed class ClusterLogTests(ObservedCluster fixture)
{
    [Fact]
    public async Task ProcessOutput_TrafficWithSecrets_EveryLineJsonAndNoSecretValue()
    {
        var edge = fixture.Edge;
        var silo = fixture.Cluster.Silos[0];
        await SendAsync(edge, "/api/hello", "scan-1", new AuthenticationHeaderValue("Bearer", ObservedCluster.SessionSecret));
        await SendAsync(edge, "/admin/clients/203.0.113.9", "scan-2", new AuthenticationHeaderValue("Bearer", ObservedCluster.AdminToken));
        await SendAsync(edge, "/admin/clients/203.0.113.9", "scan-3", new AuthenticationHeaderValue("Bearer", "wrong-" + ObservedCluster.AdminToken));
        await SendAsync(silo, "/dashboard/", "scan-4", Basic(ObservedCluster.AdminToken));
        await SendAsync(silo, "/dashboard/", "scan-5", Basic("wrong-" + ObservedCluster.AdminToken));
        await SendAsync(edge, "/api/" + Uri.EscapeDataString(ObservedCluster.AdminToken[..8]) + "-end", "scan-6", null);

        // The access line of the last request is the marker that the edge has written everything before it.
        await WaitForLineAsync(edge.Process, line => line.Contains("\"correlation_id\":\"scan-6\"", StringComparison.Ordinal), "the access line of scan-6");
        var processes = new[] { edge.Process, silo.Process };

        foreach (var process in processes)
        {
            var lines = process.Output.ToList();
            Assert.NotEmpty(lines);
            foreach (var line in lines)
            {
                Assert.DoesNotContain(ObservedCluster.SessionSecret, line, StringComparison.Ordinal);
                Assert.DoesNotContain(ObservedCluster.AdminToken, line, StringComparison.Ordinal);
                Assert.DoesNotContain(Basic(ObservedCluster.AdminToken).Parameter!, line, StringComparison.Ordinal);
                using var json = JsonDocument.Parse(line);
                Assert.True(json.RootElement.TryGetProperty("level", out _), $"{process.Name}: no level in {line}");
                Assert.True(json.RootElement.TryGetProperty("timestamp", out _), $"{process.Name}: no timestamp in {line}");
                Assert.True(json.RootElement.TryGetProperty("message", out _), $"{process.Name}: no message in {line}");
            }
        }
    }

    private static AuthenticationHeaderValue Basic(string token) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + token)));

    private static async Task SendAsync(ClusterNode node, string path, string correlationId, AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Add("X-Correlation-ID", correlationId);
        request.Headers.Authorization = authorization;
        using var response = await node.Client.SendAsync(request);
        Assert.True((int)response.StatusCode < 500, $"{path} answered {(int)response.StatusCode}");
    }

    /// <summary>The first line of the process's output that matches, once written (within 10 s).</summary>
    internal static async Task<string> WaitForLineAsync(ChildProcess process, Func<string, bool> match, string description)
    {
        var found = await Eventually.UntilAsync(
            () => Task.FromResult((Line: process.Output.FirstOrDefault(match), LastLines: process.Tail(5))),
            seen => seen.Line is not null,
            TimeSpan.FromSeconds(10),
            $"{process.Name} writing {description}");
        return found.Line!;
    }
}
