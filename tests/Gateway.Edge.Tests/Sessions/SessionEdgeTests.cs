using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.Edge.RateLimiting;
using Gateway.Edge.Sessions;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Gateway.Edge.Tests.Sessions;

/// <summary>Sessions through an embedded edge in front of a real Kestrel upstream that is also the identity upstream.</summary>
/// <remarks>
/// One edge for the whole class (its tests run one after another): each test logs in the sessions it uses, finds what the
/// upstream received by its own correlation id or by counting from where it started, and starts with a clean limiter.
/// </remarks>
public sealed class SessionEdgeTests : IClassFixture<SessionEdgeTests.Fixture>, IDisposable
{
    internal const string Secret = "edge-test-secret-0123456789abcdef0123456789";

    private readonly RecordingRateLimiter _limiter;
    private readonly TestUpstream _upstream;
    private readonly TestEdge _edge;
    private readonly SessionTestClient _client;

    public SessionEdgeTests(Fixture fixture)
    {
        _limiter = fixture.Limiter;
        _limiter.Reset();
        _upstream = fixture.Upstream;
        _edge = fixture.Edge;
        _client = new SessionTestClient(_edge.Client.BaseAddress!);
    }

    /// <param name="upstream">The test upstream, also the identity upstream.</param>
    /// <param name="extra">Top-level sections to add.</param>
    /// <param name="session">Keys to add to the session section (one line).</param>
    internal static string Config(string upstream, string extra = "", string session = "") => $$"""
        upstreams:
          users: { destinations: ["{{upstream}}"], timeout: 2s }
        routes:
          - { id: private, path: "/api/private/{**rest}", upstream: users, auth: required, ratelimit: off }
          - { id: maybe, path: "/api/maybe/{**rest}", upstream: users, auth: optional, ratelimit: off }
          - { id: open, path: "/api/open/{**rest}", upstream: users, ratelimit: off }
        session:
          cookie: gw_test
          login: { upstream: users, path: /auth/verify }
          {{session}}
        {{extra}}
        """;

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task Login_ValidCredentials_ReturnsTokenAndSetsHardenedCookie()
    {
        var login = await _client.LoginAsync("alice", "alice");

        Assert.Equal(HttpStatusCode.OK, login.Status);
        Assert.Equal("alice", login.UserId);
        using var body = JsonDocument.Parse(login.Body);
        var expires = DateTimeOffset.Parse(body.RootElement.GetProperty("expires_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(29), TimeSpan.FromMinutes(31));
        var cookie = Assert.Single(login.SetCookies).ToLowerInvariant();
        Assert.StartsWith($"gw_test={login.Token!.ToLowerInvariant()};", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.Ordinal);
        Assert.Contains("samesite=lax", cookie, StringComparison.Ordinal);
        Assert.Contains("secure", cookie, StringComparison.Ordinal);
        Assert.Contains("path=/", cookie, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, login.Body, StringComparison.Ordinal);
        Assert.Equal("private, no-store", login.CacheControl);
    }

    [Fact]
    public async Task Login_WrongPassword_401InvalidCredentialsCounted()
    {
        using var failures = Failures();

        var login = await _client.LoginAsync("alice", "wrong");

        Assert.Equal(HttpStatusCode.Unauthorized, login.Status);
        Assert.Contains("\"reason\":\"invalid_credentials\"", login.Body, StringComparison.Ordinal);
        Assert.Empty(login.SetCookies);
        Assert.Equal(["invalid_credentials"], Reasons(failures));
    }

    [Fact]
    public async Task Login_SameUserTwice_NewSessionIdEachTime()
    {
        var first = await _client.LoginAsync("bob", "bob");
        var second = await _client.LoginAsync("bob", "bob");

        Assert.NotEqual(first.Token!.Split('.')[2], second.Token!.Split('.')[2]);
        using var stillFirst = await _client.GetAsync("/auth/session", bearer: first.Token);
        Assert.Equal(HttpStatusCode.OK, stillFirst.StatusCode);
    }

    [Fact]
    public async Task Login_Attempt_LimitedPerIpPerUserAndIpAndPerUserNameAlwaysFailingClosed()
    {
        await _client.LoginAsync("Alice ", "alice");

        Assert.Contains(("login-ip", "login-ip:127.0.0.1"), _limiter.Calls);
        Assert.Contains(("login-user-ip", "login-user-ip:127.0.0.1|alice"), _limiter.Calls);
        Assert.Contains(("login-user", "login-user:alice"), _limiter.Calls);
        Assert.Equal(BackendFailureMode.Closed, _limiter.ForcedModes["login-ip:127.0.0.1"]);
        Assert.Equal(BackendFailureMode.Closed, _limiter.ForcedModes["login-user-ip:127.0.0.1|alice"]);
        Assert.Equal(BackendFailureMode.Closed, _limiter.ForcedModes["login-user:alice"]);
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded", "username=alice&password=alice")]
    [InlineData("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--x--\r\n")]
    [InlineData("text/plain", "{\"username\":\"alice\",\"password\":\"alice\"}")]
    [InlineData(null, "{\"username\":\"alice\",\"password\":\"alice\"}")]
    public async Task Login_NotJsonMediaType_415BeforeLimiterAndUpstream(string? contentType, string body)
    {
        var before = _upstream.Received.Count;

        using var response = await PostLoginAsync(Encoding.UTF8.GetBytes(body), contentType);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(_limiter.Calls);
        Assert.Equal(before, _upstream.Received.Count);
    }

    [Theory]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON")]
    [InlineData("application/vnd.example+json; charset=UTF-8")]
    public async Task Login_JsonMediaTypes_Accepted(string contentType)
    {
        using var response = await PostLoginAsync(Encoding.UTF8.GetBytes("{\"username\":\"bob\",\"password\":\"bob\"}"), contentType);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Login_BodyWithUtf8Bom_StillLimitedPerUserName()
    {
        byte[] body = [.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes("{\"username\":\"Carol\",\"password\":\"x\"}")];

        using var response = await PostLoginAsync(body, "application/json");

        Assert.Contains(("login-user", "login-user:carol"), _limiter.Calls);
        Assert.Contains(("login-user-ip", "login-user-ip:127.0.0.1|carol"), _limiter.Calls);
    }

    [Theory]
    [InlineData("{\"username\":\"dave\",\"username\":\"erin\",\"password\":\"x\"}")]
    [InlineData("{\"username\":\"dave\",\"UserName\":\"erin\",\"password\":\"x\"}")]
    [InlineData("{\"username\":\"dave\",\"user\\u006eame\":\"erin\",\"password\":\"x\"}")]
    [InlineData("{\"username\":\"dave\" \"password\":\"x\"}")]
    public async Task Login_DuplicateUserNameOrNotJson_400BeforeLimiterAndUpstream(string body)
    {
        var before = _upstream.Received.Count;

        using var response = await PostLoginAsync(Encoding.UTF8.GetBytes(body), "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_limiter.Calls);
        Assert.Equal(before, _upstream.Received.Count);
    }

    [Theory]
    [InlineData("\uFF21\uFF2C\uFF29\uFF23\uFF25")] // fullwidth ALICE
    [InlineData("ALICE")]
    [InlineData("  alice\t")]
    public async Task Login_UserNameSpelledDifferently_KeyedAsOneUser(string user)
    {
        using var response = await PostLoginAsync(JsonSerializer.SerializeToUtf8Bytes(new { username = user, password = "x" }), "application/json");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(("login-user", "login-user:alice"), _limiter.Calls);
    }

    [Fact]
    public async Task Login_LimiterUnavailable_503ProblemWithoutUpstreamCall()
    {
        _limiter.Unavailable["login-user-ip:127.0.0.1|alice"] = true;
        var before = _upstream.Received.Count;

        var login = await _client.LoginAsync("alice", "alice");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, login.Status);
        Assert.Contains("\"status\":503", login.Body, StringComparison.Ordinal);
        Assert.Equal(before, _upstream.Received.Count);
    }

    [Fact]
    public async Task Login_UserNameOverLimit_429WithRetryAfterAndNoUpstreamCall()
    {
        _limiter.Refused["login-user:mallory"] = true;
        var before = _upstream.Received.Count;

        var login = await _client.LoginAsync("mallory", "guess");

        Assert.Equal(HttpStatusCode.TooManyRequests, login.Status);
        Assert.Contains("\"policy\":\"login-user\"", login.Body, StringComparison.Ordinal);
        Assert.Equal(before, _upstream.Received.Count);
        using var again = await _client.Http.PostAsync(new Uri("/auth/login", UriKind.Relative), new StringContent("{\"username\":\"mallory\",\"password\":\"x\"}", Encoding.UTF8, "application/json"));
        Assert.Equal("3", again.Headers.RetryAfter?.ToString());
    }

    [Theory]
    [InlineData(null, "missing")]
    [InlineData("garbage", "malformed")]
    [InlineData("v1.AAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "bad_signature")]
    public async Task RequiredRoute_NoValidToken_401ProblemWithReasonCounted(string? token, string reason)
    {
        using var failures = Failures();

        using var response = await _client.GetAsync("/api/private/x", bearer: token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(reason, await SessionTestClient.ReasonAsync(response));
        Assert.Equal([reason], Reasons(failures));
    }

    [Fact]
    public async Task RequiredRoute_ForgedWithAnotherKey_401BadSignature()
    {
        var login = await _client.LoginAsync("alice", "alice");
        var sessionId = login.Token!.Split('.')[2];
        var forger = new SessionTokenCodec(new SessionKeys(new SessionKey(Encoding.UTF8.GetBytes("attacker-key-0123456789abcdef0123456789")), null, false));

        using var response = await _client.GetAsync("/api/private/x", bearer: forger.Issue(sessionId));

        Assert.Equal("bad_signature", await SessionTestClient.ReasonAsync(response));
    }

    [Fact]
    public async Task RequiredRoute_ValidCookie_ForwardsIdentityAndStripsSpoofedHeaders()
    {
        var login = await _client.LoginAsync("alice", "alice");

        using var response = await _client.GetAsync("/api/private/me", cookie: $"gw_test={login.Token}", headers: new Dictionary<string, string>
        {
            ["X-Correlation-ID"] = "spoof-private",
            ["x-user-id"] = "root",
            ["X_User_Tier"] = "enterprise",
            ["X-USER-ROLES"] = "superuser",
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = _upstream.Received.Last(h => h["X-Correlation-ID"] == "spoof-private");
        Assert.Equal("alice", seen["X-User-Id"].ToString());
        Assert.Equal("pro", seen["X-User-Tier"].ToString());
        Assert.Equal("admin", seen["X-User-Roles"].ToString());
        Assert.DoesNotContain(seen.Keys, k => k.Equals("X_User_Tier", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task RequiredRoute_GatewayCredentials_NotForwardedOtherCookiesAre()
    {
        var login = await _client.LoginAsync("alice", "alice");

        using var byCookie = await _client.GetAsync("/api/private/me", cookie: $"theme=dark; gw_test={login.Token}; lang=en", headers: new Dictionary<string, string> { ["X-Correlation-ID"] = "no-cookie-leak" });
        using var byBearer = await _client.GetAsync("/api/private/me", bearer: login.Token, headers: new Dictionary<string, string> { ["X-Correlation-ID"] = "no-bearer-leak" });

        Assert.Equal(HttpStatusCode.OK, byCookie.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byBearer.StatusCode);
        var cookieSeen = _upstream.Received.Last(h => h["X-Correlation-ID"] == "no-cookie-leak");
        Assert.Equal("theme=dark; lang=en", cookieSeen["Cookie"].ToString());
        Assert.DoesNotContain(login.Token!, cookieSeen.Values.SelectMany(v => v).Select(v => v ?? string.Empty).Aggregate(string.Empty, string.Concat), StringComparison.Ordinal);
        var bearerSeen = _upstream.Received.Last(h => h["X-Correlation-ID"] == "no-bearer-leak");
        Assert.False(bearerSeen.ContainsKey("Authorization"));
        Assert.Equal("alice", bearerSeen["X-User-Id"].ToString());
    }

    [Theory]
    [InlineData("/api/open/x")]
    [InlineData("/api/maybe/x")]
    public async Task AnonymousRequest_SpoofedIdentityHeaders_NeverReachUpstream(string path)
    {
        var marker = "spoof-" + Guid.NewGuid().ToString("N");

        using var response = await _client.GetAsync(path, headers: new Dictionary<string, string>
        {
            ["X-Correlation-ID"] = marker,
            ["X-User-Id"] = "root",
            ["x_user_id"] = "root",
            ["X-User-Tier"] = "enterprise",
            ["x-user_roles"] = "superuser",
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = _upstream.Received.Last(h => h["X-Correlation-ID"] == marker);
        Assert.DoesNotContain(seen.Keys, IdentityHeaderTransforms.IsIdentityHeader);
    }

    [Fact]
    public async Task OptionalRoute_InvalidToken_ForwardedWithoutIdentity()
    {
        using var response = await _client.GetAsync("/api/maybe/x", bearer: "garbage", headers: new Dictionary<string, string> { ["X-Correlation-ID"] = "optional-invalid" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(_upstream.Received.Last(h => h["X-Correlation-ID"] == "optional-invalid").ContainsKey("X-User-Id"));
    }

    [Fact]
    public async Task OptionalRoute_ValidBearer_ForwardsIdentity()
    {
        var login = await _client.LoginAsync("bob", "bob");

        using var response = await _client.GetAsync("/api/maybe/x", bearer: login.Token, headers: new Dictionary<string, string> { ["X-Correlation-ID"] = "optional-valid" });

        var seen = _upstream.Received.Last(h => h["X-Correlation-ID"] == "optional-valid");
        Assert.Equal("bob", seen["X-User-Id"].ToString());
        Assert.Equal("free", seen["X-User-Tier"].ToString());
        Assert.Equal(string.Empty, seen["X-User-Roles"].ToString());
    }

    [Fact]
    public async Task Session_ValidToken_DescribesSession()
    {
        var login = await _client.LoginAsync("alice", "alice");

        using var response = await _client.GetAsync("/auth/session", bearer: login.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("alice", body.RootElement.GetProperty("user_id").GetString());
        Assert.Equal("pro", body.RootElement.GetProperty("tier").GetString());
        Assert.Equal("admin", body.RootElement.GetProperty("roles")[0].GetString());
    }

    [Fact]
    public async Task Logout_ThenUse_204Then401RevokedAndCookieCleared()
    {
        var login = await _client.LoginAsync("alice", "alice");

        using var logout = await _client.SendAsync(HttpMethod.Post, "/auth/logout", bearer: login.Token);
        using var after = await _client.GetAsync("/api/private/x", bearer: login.Token);

        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        Assert.Contains(logout.Headers.GetValues("Set-Cookie"), c => c.StartsWith("gw_test=;", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal("revoked", await SessionTestClient.ReasonAsync(after));
    }

    [Fact]
    public async Task RevokeUserSessions_AdminToken_RevokesEverySessionOfThatUserOnly()
    {
        var first = await _client.LoginAsync("alice", "alice");
        var second = await _client.LoginAsync("alice", "alice");
        var other = await _client.LoginAsync("bob", "bob");

        using var unauthorized = await _client.SendAsync(HttpMethod.Delete, "/admin/users/alice/sessions");
        using var revoke = await _client.SendAsync(HttpMethod.Delete, "/admin/users/alice/sessions", bearer: "admin-test-token-0123456789abcdefghij");

        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        foreach (var token in new[] { first.Token, second.Token })
        {
            using var refused = await _client.GetAsync("/api/private/x", bearer: token);
            Assert.Equal("revoked", await SessionTestClient.ReasonAsync(refused));
        }

        using var bob = await _client.GetAsync("/api/private/x", bearer: other.Token);
        Assert.Equal(HttpStatusCode.OK, bob.StatusCode);
    }

    [Fact]
    public async Task UnknownKeyToken_ExistingSession_401BadSignature()
    {
        var login = await _client.LoginAsync("alice", "alice");
        var sessionId = login.Token!.Split('.')[2];

        // This edge runs with SESSION_SECRET only; a token of the same session signed with an unknown key is refused.
        var stranger = new SessionTokenCodec(new SessionKeys(new SessionKey(Encoding.UTF8.GetBytes("previous-secret-0123456789abcdef0123456789")), null, false));
        using var refused = await _client.GetAsync("/api/private/x", bearer: stranger.Issue(sessionId));

        Assert.Equal("bad_signature", await SessionTestClient.ReasonAsync(refused));
    }

    private async Task<HttpResponseMessage> PostLoginAsync(byte[] body, string? contentType)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/auth/login") { Content = content };
        return await _client.Http.SendAsync(request);
    }

    private MetricCollector<long> Failures() =>
        new((object)_edge.Services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, "gateway_auth_failures_total");

    private static List<string> Reasons(MetricCollector<long> collector) =>
        [.. collector.GetMeasurementSnapshot().Select(m => (string)m.Tags["reason"]!)];

    /// <summary>The edge (with a recording limiter) and the upstream the tests of this class share.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        internal RecordingRateLimiter Limiter { get; } = new();

        internal TestUpstream Upstream { get; private set; } = null!;

        internal TestEdge Edge { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Upstream = await TestUpstream.StartAsync();
            Edge = await TestEdge.StartAsync(Config(Upstream.Address), services => services.AddSingleton<IRateLimiter>(Limiter), $"--SESSION_SECRET={Secret}", "--ADMIN_TOKEN=admin-test-token-0123456789abcdefghij");
        }

        public async Task DisposeAsync()
        {
            await Edge.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }
}
