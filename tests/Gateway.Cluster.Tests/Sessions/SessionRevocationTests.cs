using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;

namespace Gateway.Cluster.Tests.Sessions;

/// <summary>Two silos and three edges over a real redis-server: a revocation on one edge is refused by every edge within 1 s.</summary>
/// <remarks>The tests share the session cluster: each logs in its own user and revokes only that user's sessions.</remarks>
[Collection(SessionCluster.Collection)]
public sealed class SessionRevocationTests(SessionCluster fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(1);

    private readonly LocalCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task Logout_OnOneEdge_RefusedByEveryEdgeWithinOneSecond()
    {
        var token = await SessionHttp.LoginAsync(_cluster.Edges[0], "alice");
        await WarmEveryEdgeAsync(token);

        var clock = Stopwatch.StartNew();
        using (var logout = await SessionHttp.SendAsync(_cluster.Edges[1], HttpMethod.Post, "/auth/logout", bearer: token))
        {
            Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        }

        await AssertRefusedEverywhereAsync(token, clock);
    }

    [Fact]
    public async Task RevokeUserSessions_OnOneEdge_EverySessionRefusedByEveryEdgeWithinOneSecond()
    {
        var first = await SessionHttp.LoginAsync(_cluster.Edges[0], "bob");
        var second = await SessionHttp.LoginAsync(_cluster.Edges[2], "bob");
        await WarmEveryEdgeAsync(first);
        await WarmEveryEdgeAsync(second);

        var clock = Stopwatch.StartNew();
        using (var revoke = await SessionHttp.SendAsync(_cluster.Edges[1], HttpMethod.Delete, "/admin/users/bob/sessions", bearer: SessionHttp.AdminToken))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        await AssertRefusedEverywhereAsync(first, clock);
        await AssertRefusedEverywhereAsync(second, clock);
    }

    private async Task WarmEveryEdgeAsync(string token)
    {
        foreach (var edge in _cluster.Edges)
        {
            using var response = await SessionHttp.SendAsync(edge, HttpMethod.Get, "/api/private/warm", bearer: token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    /// <summary>Polls every edge until it refuses the token; an answer that still accepts it after <see cref="Deadline"/> fails.</summary>
    private async Task AssertRefusedEverywhereAsync(string token, Stopwatch sinceRevocation)
    {
        foreach (var edge in _cluster.Edges)
        {
            for (var attempt = 0; ; attempt++)
            {
                using var response = await SessionHttp.SendAsync(edge, HttpMethod.Get, "/api/private/after", bearer: token);
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    Assert.Equal("revoked", await SessionHttp.ReasonAsync(response));
                    output.WriteLine($"{edge.Process.Name} refused {sinceRevocation.Elapsed.TotalMilliseconds:F0} ms after the revocation");
                    break;
                }

                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.True(sinceRevocation.Elapsed < Deadline, $"{edge.Process.Name} still accepted a revoked session after {sinceRevocation.Elapsed.TotalMilliseconds:F0} ms");
                Assert.True(attempt < 500, "bounded polling");
                await Task.Delay(20);
            }
        }
    }
}
