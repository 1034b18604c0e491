using System.Net;

namespace Gateway.Cluster.Tests.Sessions;

/// <summary>
/// The runbook's rotation of <c>SESSION_SECRET</c>, step by step, with the edges a rolling restart runs side by side at
/// each step: a rollout replaces one pod at a time, so during it old and new edges serve the same clients. A cookie
/// client keeps what each edge sends back; a bearer client keeps the token of its login. (The test identity upstream knows alice and bob.)
/// </summary>
[Collection(SessionCluster.Collection)]
public sealed class SecretRotationTests(SessionCluster fixture) : IAsyncLifetime
{
    private const string OldSecret = SessionCluster.OldSecret;
    private const string NewSecret = SessionCluster.NewSecret;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Ends the edges the rollouts started; the shared ones (old key) stay.</summary>
    public Task DisposeAsync() => fixture.RemoveAddedNodesAsync();

    [Fact]
    public async Task ThreeStepRotation_OldAndNewEdgesOfEachRollout_RefuseNoSession()
    {
        var before = fixture.Cluster.Edges[0]; // shared, so it is not stopped: no later step sends to it
        var bearer = await SessionHttp.LoginAsync(before, "alice");
        var cookie = new CookieClient(bearer);

        // Step 1: the new key is accepted everywhere before any edge signs with it.
        var staged = await StartEdgeAsync(current: OldSecret, previous: NewSecret);
        await cookie.AssertAcceptedAlternatelyAsync(before, staged);
        await AssertAcceptedAsync(before, await SessionHttp.LoginAsync(staged, "bob"));

        // Step 2: edges sign with the new key while the not yet restarted ones still accept it as the previous one.
        var switched = await StartEdgeAsync(current: NewSecret, previous: OldSecret);
        await cookie.AssertAcceptedAlternatelyAsync(staged, switched);
        await AssertAcceptedAsync(staged, await SessionHttp.LoginAsync(switched, "alice"));
        await AssertAcceptedAsync(switched, bearer);
        await StopAsync(staged);

        // Step 3: the old key is dropped. A cookie client used since step 2 holds a token of the new key; a bearer
        // token of the old key is refused from now on, which is why the runbook waits the session's whole lifetime.
        var retired = await StartEdgeAsync(current: NewSecret, previous: null);
        await cookie.AssertAcceptedAlternatelyAsync(switched, retired);
        await AssertAcceptedAsync(retired, await SessionHttp.LoginAsync(switched, "bob"));
        using var stale = await SendAsync(retired, "/api/private/stale", bearer: bearer);
        Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
        Assert.Equal("bad_signature", await SessionHttp.ReasonAsync(stale));
    }

    [Fact]
    public async Task OneStepRotation_NotYetRestartedEdge_RefusesTheCookieANewEdgeResigned()
    {
        var notRestarted = fixture.Cluster.Edges[0];
        var cookie = new CookieClient(await SessionHttp.LoginAsync(notRestarted, "alice"));

        // Swapping the keys in one rollout: the restarted edge re-signs the cookie with a key the others do not know.
        var restarted = await StartEdgeAsync(current: NewSecret, previous: OldSecret);
        using var resigned = await cookie.SendAsync(restarted);
        using var refused = await cookie.SendAsync(notRestarted);

        Assert.Equal(HttpStatusCode.OK, resigned.StatusCode);
        Assert.True(resigned.Headers.Contains("Set-Cookie"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("bad_signature", await SessionHttp.ReasonAsync(refused));
    }

    private static async Task AssertAcceptedAsync(EdgeNode edge, string bearer)
    {
        using var response = await SendAsync(edge, "/api/private/bearer", bearer: bearer);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>
    /// A request that carries only what the test gives it. An edge's own <see cref="ClusterNode.Client"/> keeps the
    /// cookie of a login made through it and would send it along, so a refused token could pass on that cookie.
    /// </summary>
    private static Task<HttpResponseMessage> SendAsync(EdgeNode edge, string path, string? bearer = null, string? cookie = null) =>
        SessionHttp.SendAsync(edge, HttpMethod.Get, path, bearer, cookie);

    private Task<EdgeNode> StartEdgeAsync(string current, string? previous) => fixture.StartEdgeAsync(current, previous);

    private async Task StopAsync(EdgeNode edge)
    {
        fixture.Cluster.Edges.Remove(edge);
        await edge.DisposeAsync();
    }

    /// <summary>A browser's view of the session cookie: sent on every request, replaced by any Set-Cookie of it.</summary>
    private sealed class CookieClient(string token)
    {
        private const string Name = "gw_test";

        public string Token { get; private set; } = token;

        public async Task<HttpResponseMessage> SendAsync(EdgeNode edge)
        {
            var response = await SecretRotationTests.SendAsync(edge, "/api/private/cookie", cookie: $"{Name}={Token}");
            if (response.Headers.TryGetValues("Set-Cookie", out var cookies))
            {
                var set = cookies.Single(c => c.StartsWith(Name + "=", StringComparison.Ordinal));
                Token = set[(Name.Length + 1)..set.IndexOf(';', StringComparison.Ordinal)];
            }

            return response;
        }

        /// <summary>Requests that go back and forth between two edges, as a Service spreads them during a rollout.</summary>
        public async Task AssertAcceptedAlternatelyAsync(EdgeNode first, EdgeNode second)
        {
            foreach (var edge in new[] { first, second, first, second })
            {
                using var response = await SendAsync(edge);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
    }
}
