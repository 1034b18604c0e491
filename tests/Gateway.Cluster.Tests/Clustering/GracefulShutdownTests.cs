using System.Collections.Concurrent;
using System.Net;

namespace Gateway.Cluster.Tests.Clustering;

/// <summary>
/// SIGTERM to one edge and one silo while traffic flows through a load balancer that, like a Kubernetes Service,
/// only sends to edges whose readiness answers 200: not one request may fail. The leaving edge and silo are added to
/// the shared membership cluster by the test and ended by it.
/// </summary>
[Collection(ClusterMembershipTests.Fixture.Collection)]
public sealed class GracefulShutdownTests(ClusterMembershipTests.Fixture fixture) : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => fixture.RemoveAddedNodesAsync();

    [Fact]
    public async Task Sigterm_OneEdgeAndOneSiloUnderLoad_NoRequestFails()
    {
        var cluster = fixture.Cluster;
        var leavingSilo = cluster.AddSilo();
        var leavingEdge = cluster.AddEdge();
        await Task.WhenAll(leavingSilo.WaitReadyAsync(TimeSpan.FromSeconds(60)), leavingEdge.WaitReadyAsync(TimeSpan.FromSeconds(60)));
        var survivingEdge = cluster.Edges[0];
        var ready = new ConcurrentDictionary<EdgeNode, bool>(cluster.Edges.Select(e => KeyValuePair.Create(e, true)));
        var failures = new ConcurrentQueue<string>();
        var sent = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        // The "Service": probes readiness every 100 ms, as a kubelet would (faster, to keep the test short).
        var balancer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var edge in cluster.Edges)
                {
                    ready[edge] = await IsReadyAsync(edge);
                }

                await Task.Delay(100);
            }
        });

        var workers = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            var i = worker;
            while (!stop.IsCancellationRequested)
            {
                var targets = ready.Where(r => r.Value).Select(r => r.Key).ToList();
                if (targets.Count == 0)
                {
                    failures.Enqueue("no ready edge");
                    await Task.Delay(50);
                    continue;
                }

                var edge = targets[i++ % targets.Count];
                try
                {
                    using var response = await edge.Client.GetAsync(new Uri("/api/item", UriKind.Relative));
                    Interlocked.Increment(ref sent);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        failures.Enqueue($"{edge.Process.Name}: {(int)response.StatusCode}");
                    }
                }
                catch (HttpRequestException ex)
                {
                    failures.Enqueue($"{edge.Process.Name}: {ex.Message}");
                }
            }
        })).ToList();

        // Grain calls through the surviving edge (its readiness check pings a grain) while a silo leaves.
        var grainCalls = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (!await IsReadyAsync(survivingEdge))
                {
                    failures.Enqueue("surviving edge lost the grain cluster");
                }

                await Task.Delay(50);
            }
        });

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        leavingEdge.Process.Signal(ChildProcess.SigTerm);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        leavingSilo.Process.Signal(ChildProcess.SigTerm);

        var edgeExit = await leavingEdge.Process.WaitForExitAsync(TimeSpan.FromSeconds(20));
        var siloExit = await leavingSilo.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await Task.WhenAll(workers.Append(balancer).Append(grainCalls));

        Assert.Equal(0, edgeExit);
        Assert.Equal(0, siloExit);
        Assert.True(sent > 100, $"only {sent} requests were sent");
        Assert.Empty(failures);
    }

    private static async Task<bool> IsReadyAsync(ClusterNode node)
    {
        try
        {
            using var response = await node.Client.GetAsync(new Uri("/health/ready", UriKind.Relative));
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
