using System.Net;
using System.Text;
using StackExchange.Redis;

namespace Gateway.Cluster.Tests.Sessions;

/// <summary>Session state in a real redis-server: it survives a restart of every silo and edge, is stored as plain JSON, and goes on revocation.</summary>
[Collection(SessionCluster.Collection)]
public sealed class SessionPersistenceTests(SessionCluster fixture) : IAsyncLifetime
{
    private LocalCluster Cluster => fixture.Cluster;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Ends the edges a test added with other secrets; the shared nodes stay.</summary>
    public Task DisposeAsync() => fixture.RemoveAddedNodesAsync();

    [Fact]
    public async Task RestartEverySiloAndEdge_SessionStillValidAndStoredWithoutTypeNames()
    {
        var token = await SessionHttp.LoginAsync(Cluster.Edges[0], "alice");
        var sessionId = token.Split('.')[2];

        await RestartEverythingAsync();

        using var response = await SessionHttp.SendAsync(Cluster.Edges[0], HttpMethod.Get, "/api/private/after-restart", bearer: token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = await StoredStateAsync(sessionId);
        Assert.Contains("\"user_id\":\"alice\"", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("$type", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("Gateway.", stored, StringComparison.Ordinal);
        Assert.DoesNotContain(token, stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logout_StoredSession_DeletedFromRedisWithExpiryOnWhatRemains()
    {
        var token = await SessionHttp.LoginAsync(Cluster.Edges[0], "bob");
        var sessionId = token.Split('.')[2];
        await using var redis = await ConnectionMultiplexer.ConnectAsync(Cluster.Redis.ConnectionString);
        var key = await SessionKeyAsync(redis, sessionId);
        Assert.NotNull(key);
        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync(key.Value);
        Assert.NotNull(ttl); // no session key lives forever

        using var logout = await SessionHttp.SendAsync(Cluster.Edges[0], HttpMethod.Post, "/auth/logout", bearer: token);

        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        Assert.False(await redis.GetDatabase().KeyExistsAsync(key.Value));
    }

    [Fact]
    public async Task RotatedSecret_EdgesStartedWithTheNewKey_OldTokenAcceptedAndResignedUnknownKeyRefused()
    {
        var token = await SessionHttp.LoginAsync(Cluster.Edges[0], "alice");
        var rotated = fixture.StartEdgeAsync(current: SessionCluster.NewSecret, previous: SessionCluster.OldSecret);
        var newOnlyStart = fixture.StartEdgeAsync(current: SessionCluster.NewSecret, previous: null);
        await Task.WhenAll(rotated, newOnlyStart);
        var (accepting, newOnly) = (await rotated, await newOnlyStart);

        using var accepted = await SessionHttp.SendAsync(accepting, HttpMethod.Get, "/api/private/rotated", cookie: $"gw_test={token}");
        using var refused = await SessionHttp.SendAsync(newOnly, HttpMethod.Get, "/api/private/rotated", cookie: $"gw_test={token}");

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var cookie = Assert.Single(accepted.Headers.GetValues("Set-Cookie"));
        var resigned = cookie["gw_test=".Length..cookie.IndexOf(';', StringComparison.Ordinal)];
        Assert.NotEqual(token, resigned);
        Assert.Equal(token.Split('.')[2], resigned.Split('.')[2]);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("bad_signature", await SessionHttp.ReasonAsync(refused));
        using var resignedOnNewOnly = await SessionHttp.SendAsync(newOnly, HttpMethod.Get, "/api/private/rotated", cookie: $"gw_test={resigned}");
        Assert.Equal(HttpStatusCode.OK, resignedOnNewOnly.StatusCode);
    }

    [Fact]
    public async Task ClusteredEdge_WithoutSessionSecret_ExitsWithOneLineNamingIt()
    {
        await using var edge = ChildProcess.StartDotnet("edge-no-secret", "Gateway.Edge", new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort.Next()}",
            ["REDIS_CONNECTION"] = Cluster.Redis.ConnectionString,
            ["GATEWAY_CONFIG"] = Cluster.ConfigPath,
        });

        var exitCode = await edge.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, exitCode);
        var line = Assert.Single(edge.Output, l => l.Contains("SESSION_SECRET", StringComparison.Ordinal));
        Assert.StartsWith("configuration error:", line, StringComparison.Ordinal);
    }

    /// <summary>Ends every silo and edge of the shared cluster, then starts as many again (all at once), ready.</summary>
    private async Task RestartEverythingAsync()
    {
        var (silos, edges) = (Cluster.Silos.Count, Cluster.Edges.Count);
        await Task.WhenAll(Cluster.Edges.Concat<Gateway.Testing.ClusterNode>(Cluster.Silos).Select(node => node.DisposeAsync().AsTask()));
        Cluster.Edges.Clear();
        Cluster.Silos.Clear();
        var started = Enumerable.Range(0, silos).Select(_ => (Gateway.Testing.ClusterNode)Cluster.AddSilo())
            .Concat(Enumerable.Range(0, edges).Select(_ => Cluster.AddEdge()))
            .ToList();
        await Task.WhenAll(started.Select(node => node.WaitReadyAsync(TimeSpan.FromSeconds(60))));
    }

    private async Task<string> StoredStateAsync(string sessionId)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(Cluster.Redis.ConnectionString);
        var key = await SessionKeyAsync(redis, sessionId) ?? throw new InvalidOperationException("no stored session");
        return Encoding.UTF8.GetString((byte[])(await redis.GetDatabase().HashGetAsync(key, "data"))!);
    }

    private static async Task<RedisKey?> SessionKeyAsync(ConnectionMultiplexer redis, string sessionId)
    {
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        await foreach (var key in server.KeysAsync(pattern: $"{LocalCluster.ServiceId}/state/*"))
        {
            if (key.ToString().Contains(sessionId, StringComparison.Ordinal))
            {
                return key;
            }
        }

        return null;
    }
}
