using System.Net;
using System.Text;
using Gateway.Edge.RateLimiting;
using Gateway.Edge.Sessions;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Grains.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Edge.Tests.Sessions;

/// <summary>Key rotation and idle expiry through an embedded edge; the session clock is a <see cref="FakeTimeProvider"/>.</summary>
/// <remarks>
/// One edge and one session clock for the class: each test logs in its own sessions and measures from the clock's
/// reading at its start, so the time earlier tests moved on cannot matter.
/// </remarks>
public sealed class SessionLifetimeEdgeTests(SessionLifetimeEdgeTests.Fixture fixture) : IClassFixture<SessionLifetimeEdgeTests.Fixture>, IDisposable
{
    private const string Current = "current-secret-0123456789abcdef0123456789";
    private const string Previous = "previous-secret-0123456789abcdef0123456789";

    private readonly FakeTimeProvider _clock = fixture.Clock;
    private readonly TestEdge _edge = fixture.Edge;
    private readonly SessionTestClient _client = new(fixture.Edge.Client.BaseAddress!);

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task PreviousKeyToken_DuringRotation_AcceptedAndCookieResignedWithCurrentKey()
    {
        var login = await _client.LoginAsync("alice", "alice");
        var sessionId = login.Token!.Split('.')[2];
        var oldToken = new SessionTokenCodec(new SessionKeys(new SessionKey(Encoding.UTF8.GetBytes(Previous)), null, false)).Issue(sessionId);

        using var response = await _client.GetAsync("/api/private/x", cookie: $"gw_test={oldToken}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith($"gw_test={login.Token};", cookie, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PreviousKeyToken_UpstreamSaysPublic_ReissuedCookieAnswerPrivateNoStore()
    {
        var login = await _client.LoginAsync("alice", "alice");
        var oldToken = new SessionTokenCodec(new SessionKeys(new SessionKey(Encoding.UTF8.GetBytes(Previous)), null, false)).Issue(login.Token!.Split('.')[2]);
        using var plain = await _client.GetAsync("/api/private/x?cache_control=public,max-age=600", bearer: login.Token);

        using var response = await _client.GetAsync("/api/private/x?cache_control=public,max-age=600", cookie: $"gw_test={oldToken}");

        Assert.Equal("public,max-age=600", plain.Headers.NonValidated["Cache-Control"].ToString());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith($"gw_test={login.Token};", StringComparison.Ordinal));
        Assert.Equal("private, no-store", response.Headers.NonValidated["Cache-Control"].ToString());
    }

    [Fact]
    public async Task Session_UsedEveryFewMinutes_EndsAtMaxLifetimeFromLogin()
    {
        var loggedInAt = _clock.GetUtcNow();
        var login = await _client.LoginAsync("bob", "bob");

        // Used every 9 minutes, within the 10 minute idle TTL, until the 40 minute absolute lifetime is nearer than the TTL.
        for (var i = 0; i < 4; i++)
        {
            _clock.Advance(TimeSpan.FromMinutes(9));
            using var used = await _client.GetAsync("/api/private/x", bearer: login.Token);
            Assert.Equal(HttpStatusCode.OK, used.StatusCode);
        }

        using (var described = await _client.GetAsync("/auth/session", bearer: login.Token))
        {
            Assert.Contains($"\"expires_at\":\"{(loggedInAt + TimeSpan.FromMinutes(40)).UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\"", await described.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        _clock.Advance(TimeSpan.FromMinutes(4));
        using var ended = await _client.GetAsync("/api/private/x", bearer: login.Token);

        Assert.Equal(HttpStatusCode.Unauthorized, ended.StatusCode);
        Assert.Equal("expired", await SessionTestClient.ReasonAsync(ended));
    }

    [Fact]
    public async Task CurrentKeyToken_Used_NoCookieReissued()
    {
        var login = await _client.LoginAsync("bob", "bob");

        using var response = await _client.GetAsync("/api/private/x", bearer: login.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task IdleSession_UsedWithinTtl_SlidesThenExpiresAfterTtlIdle()
    {
        var login = await _client.LoginAsync("alice", "alice");

        // Each use within the 10 minute idle TTL pushes the expiry out: 27 minutes of use in steps of 9.
        for (var i = 0; i < 3; i++)
        {
            _clock.Advance(TimeSpan.FromMinutes(9));
            using var used = await _client.GetAsync("/api/private/x", bearer: login.Token);
            Assert.Equal(HttpStatusCode.OK, used.StatusCode);
        }

        _clock.Advance(TimeSpan.FromMinutes(10));
        using var expired = await _client.GetAsync("/api/private/x", bearer: login.Token);

        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Equal("expired", await SessionTestClient.ReasonAsync(expired));
    }

    [Fact]
    public async Task Login_SessionTtlOverride_ExpiresAtFollowsSessionClock()
    {
        var login = await _client.LoginAsync("bob", "bob");

        Assert.Contains($"\"expires_at\":\"{(_clock.GetUtcNow() + TimeSpan.FromMinutes(10)).UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\"", login.Body, StringComparison.Ordinal);
    }

    /// <summary>The edge (with rotated keys, a 10 min TTL and a 40 min max lifetime) and the clock the tests share.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        internal FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

        internal TestUpstream Upstream { get; private set; } = null!;

        internal TestEdge Edge { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Upstream = await TestUpstream.StartAsync();
            Edge = await TestEdge.StartAsync(
                SessionEdgeTests.Config(Upstream.Address, session: "max_lifetime: 40m"),
                services =>
                {
                    services.AddKeyedSingleton<TimeProvider>(SessionClock.Key, Clock);
                    services.AddSingleton<IRateLimiter>(new RecordingRateLimiter());
                },
                $"--SESSION_SECRET={Current}",
                $"--SESSION_SECRET_PREVIOUS={Previous}",
                "--SESSION_TTL=10m");
        }

        public async Task DisposeAsync()
        {
            await Edge.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }
}
