using System.Net;

namespace Gateway.Cluster.Tests.Clustering;

public sealed class RedisOutageTests
{
    [Fact]
    public async Task RedisStopped_EdgesKeepProxying()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var cluster = await LocalCluster.StartAsync(
            upstream.EchoConfig(rateLimited: false),
            silos: 2,
            edges: 2);

        await cluster.Redis.StopAsync();

        var failures = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(8);
        var sent = 0;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var edge in cluster.Edges)
            {
                using var response = await edge.Client.GetAsync(new Uri("/api/while-redis-down", UriKind.Relative));
                sent++;
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Add($"{edge.Process.Name}: {(int)response.StatusCode}");
                }
            }

            await Task.Delay(50);
        }

        Assert.True(sent > 20);
        Assert.Empty(failures);
        Assert.All(cluster.Silos.Concat<ClusterNode>(cluster.Edges), node => Assert.False(node.Process.HasExited, $"{node.Process.Name} exited:\n{node.Process.Tail()}"));
    }
}
