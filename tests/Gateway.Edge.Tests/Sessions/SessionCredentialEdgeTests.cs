using System.Net;
using Gateway.Edge.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.Edge.Tests.Sessions;

/// <summary>
/// The session cookie is read by its exact name only, and the gateway's credentials never reach an upstream in any
/// spelling (cookie named <c>gw_test</c>, as in <see cref="SessionEdgeTests"/>).
/// </summary>
/// <remarks>The tests share one edge and one session of alice, which none of them ends; each finds its request upstream by its own marker.</remarks>
public sealed class SessionCredentialEdgeTests(SessionCredentialEdgeTests.Fixture fixture) : IClassFixture<SessionCredentialEdgeTests.Fixture>
{
    private readonly TestUpstream _upstream = fixture.Upstream;
    private readonly TestEdge _edge = fixture.Edge;
    private readonly SessionTestClient _client = fixture.Client;
    private readonly string _token = fixture.Token;

    [Theory]
    [InlineData("GW_TEST={0}")]
    [InlineData("Gw_Test={0}; theme=dark")]
    [InlineData("gw%5Ftest={0}")]
    [InlineData("gw_test_={0}")]
    public async Task RequiredRoute_CookieNotNamedExactly_401Missing(string cookie)
    {
        using var response = await _client.GetAsync("/api/private/x", cookie: string.Format(System.Globalization.CultureInfo.InvariantCulture, cookie, _token));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("missing", await SessionTestClient.ReasonAsync(response));
    }

    [Theory]
    [InlineData("theme=dark; gw_test={0}; lang=en")]
    [InlineData("gw_test=\"{0}\"; theme=dark; lang=en")]
    [InlineData("theme=dark;gw_test={0};lang=en")]
    public async Task RequiredRoute_ExactCookieName_AuthenticatedAndCookieNotForwarded(string cookie)
    {
        var marker = Guid.NewGuid().ToString("N");

        using var response = await _client.GetAsync("/api/private/x", cookie: string.Format(System.Globalization.CultureInfo.InvariantCulture, cookie, _token), headers: new Dictionary<string, string> { ["X-Correlation-ID"] = marker });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = _upstream.Received.Last(h => h["X-Correlation-ID"] == marker);
        Assert.Equal("alice", seen["X-User-Id"].ToString());
        Assert.Equal("theme=dark; lang=en", seen["Cookie"].ToString());
        AssertTokenNotIn(seen);
    }

    [Theory]
    [InlineData("GW_TEST={0}; theme=dark", "theme=dark")]
    [InlineData("theme=dark;   Gw_Test  =  {0}  ", "theme=dark")]
    [InlineData("gw%5Ftest={0}; theme=dark", "theme=dark")]
    [InlineData("GW%255FTEST={0}; theme=dark", "theme=dark")]
    [InlineData("theme=dark; \"gw_test\"=\"{0}\"", "theme=dark")]
    [InlineData("gw_test={0}; theme=dark; GW_TEST={0}", "theme=dark")]
    [InlineData("lang=en; theme=dark, gw_test={0}", "lang=en")]
    public async Task OpenRoute_GatewayCookieInAnySpelling_StrippedOtherCookiesKept(string cookie, string expected)
    {
        var marker = Guid.NewGuid().ToString("N");

        using var response = await _client.GetAsync("/api/open/x", cookie: string.Format(System.Globalization.CultureInfo.InvariantCulture, cookie, _token), headers: new Dictionary<string, string> { ["X-Correlation-ID"] = marker });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = _upstream.Received.Last(h => h["X-Correlation-ID"] == marker);
        Assert.Equal(expected, seen["Cookie"].ToString());
        AssertTokenNotIn(seen);
    }

    [Fact]
    public async Task OpenRoute_OnlyTheGatewayCookie_NoCookieHeaderForwarded()
    {
        var marker = Guid.NewGuid().ToString("N");

        using var response = await _client.GetAsync("/api/open/x", cookie: $"GW_TEST={_token}", headers: new Dictionary<string, string> { ["X-Correlation-ID"] = marker });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(_upstream.Received.Last(h => h["X-Correlation-ID"] == marker).ContainsKey("Cookie"));
    }

    [Fact]
    public async Task RequiredRoute_SeveralCookieHeaderLines_ExactNameAuthenticatesNoneForwarded()
    {
        var marker = Guid.NewGuid().ToString("N");

        var status = await RawHttp.GetAsync(_edge.Client.BaseAddress!, "/api/private/x", ("X-Correlation-ID", marker), ("Cookie", "theme=dark; GW_TEST=" + _token), ("Cookie", "gw_test=" + _token), ("Cookie", "lang=en"));

        Assert.Equal(200, status);
        var seen = _upstream.Received.Last(h => h["X-Correlation-ID"] == marker);
        Assert.Equal("alice", seen["X-User-Id"].ToString());
        Assert.Equal("theme=dark; lang=en", string.Join("; ", seen["Cookie"].ToArray()));
        AssertTokenNotIn(seen);
    }

    [Fact]
    public async Task RequiredRoute_SeveralCookieHeaderLinesWrongCaseOnly_401()
    {
        var status = await RawHttp.GetAsync(_edge.Client.BaseAddress!, "/api/private/x", ("Cookie", "theme=dark"), ("Cookie", "GW_TEST=" + _token));

        Assert.Equal(401, status);
    }

    [Theory]
    [InlineData("bEARER {0}")]
    [InlineData("BEARER   {0}")]
    public async Task RequiredRoute_BearerSchemeInAnyCase_AuthenticatedAndNotForwarded(string authorization)
    {
        var marker = Guid.NewGuid().ToString("N");

        using var response = await _client.GetAsync("/api/private/x", headers: new Dictionary<string, string>
        {
            ["X-Correlation-ID"] = marker,
            ["Authorization"] = string.Format(System.Globalization.CultureInfo.InvariantCulture, authorization, _token),
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = _upstream.Received.Last(h => h["X-Correlation-ID"] == marker);
        Assert.False(seen.ContainsKey("Authorization"));
        AssertTokenNotIn(seen);
    }

    [Fact]
    public async Task OpenRoute_GatewayBearerJoinedWithOtherCredentials_TokenNotForwardedOtherAuthorizationKept()
    {
        var marker = Guid.NewGuid().ToString("N");

        var status = await RawHttp.GetAsync(_edge.Client.BaseAddress!, "/api/open/x", ("X-Correlation-ID", marker), ("Authorization", "Basic dXNlcjpwdw=="), ("Authorization", "bearer " + _token));
        using var joined = await _client.GetAsync("/api/open/x", headers: new Dictionary<string, string> { ["X-Correlation-ID"] = marker + "-joined", ["Authorization"] = $"Basic dXNlcjpwdw==, Bearer {_token}" });

        Assert.Equal(200, status);
        Assert.Equal(HttpStatusCode.OK, joined.StatusCode);
        var seen = _upstream.Received.Last(h => h["X-Correlation-ID"] == marker);
        Assert.Equal("Basic dXNlcjpwdw==", seen["Authorization"].ToString());
        AssertTokenNotIn(seen);
        AssertTokenNotIn(_upstream.Received.Last(h => h["X-Correlation-ID"] == marker + "-joined"));
    }

    [Fact]
    public async Task OpenRoute_OtherBearerToken_PassesThrough()
    {
        var marker = Guid.NewGuid().ToString("N");

        using var response = await _client.GetAsync("/api/open/x", bearer: "upstream-own-token", headers: new Dictionary<string, string> { ["X-Correlation-ID"] = marker });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Bearer upstream-own-token", _upstream.Received.Last(h => h["X-Correlation-ID"] == marker)["Authorization"].ToString());
    }

    private void AssertTokenNotIn(IHeaderDictionary seen)
    {
        var session = _token.Split('.')[2];
        Assert.All(seen, header => Assert.DoesNotContain(session, string.Join('\n', header.Value.ToArray()), StringComparison.Ordinal));
    }

    /// <summary>The edge, upstream, client and logged-in token the tests of this class share.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        internal TestUpstream Upstream { get; private set; } = null!;

        internal TestEdge Edge { get; private set; } = null!;

        internal SessionTestClient Client { get; private set; } = null!;

        internal string Token { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Upstream = await TestUpstream.StartAsync();
            Edge = await TestEdge.StartAsync(SessionEdgeTests.Config(Upstream.Address), $"--SESSION_SECRET={SessionEdgeTests.Secret}");
            Client = new SessionTestClient(Edge.Client.BaseAddress!);
            // Login fails closed when its limiter misses the decision budget (a cold grain on a loaded machine): retry that.
            var login = await Eventually.UntilAsync(() => Client.LoginAsync("alice", "alice"), l => l.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "alice's login", TimeSpan.FromMilliseconds(500));
            Token = login.Token!;
        }

        public async Task DisposeAsync()
        {
            Client.Dispose();
            await Edge.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }
}
