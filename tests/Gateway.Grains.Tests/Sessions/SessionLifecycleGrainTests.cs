using Gateway.Grains.Contracts;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Grains.Tests.Sessions;

/// <summary>
/// What a session and its user's index do over their life: the idle expiry slides with use, revocation (one or all of a
/// user's) is final, and state written by one activation is what the next one finds. Each test uses its own user and
/// session ids, so the shared silo and clock cannot couple them.
/// </summary>
public sealed class SessionLifecycleGrainTests(SessionClusterFixture fixture) : IClassFixture<SessionClusterFixture>
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(8);

    private readonly FakeTimeProvider _time = fixture.Time;
    private readonly IGrainFactory _grains = fixture.Cluster.Client;
    private readonly string _user = "user-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task TouchAsync_WithinTtl_SlidesExpiryFromLastUse()
    {
        var grain = NewSession();
        var created = _time.GetUtcNow();
        await grain.CreateAsync(Identity(), Ttl, MaxLifetime);

        _time.Advance(TimeSpan.FromMinutes(4));
        var touched = await grain.TouchAsync();
        _time.Advance(TimeSpan.FromMinutes(9)); // 13 minutes after creation: past the first expiry, within the slid one
        var later = await grain.TouchAsync();

        Assert.Equal(created + TimeSpan.FromMinutes(4) + Ttl, touched.Session!.ExpiresAt);
        Assert.Equal(SessionStatus.Active, later.Status);
        Assert.Equal(created + TimeSpan.FromMinutes(13) + Ttl, later.Session!.ExpiresAt);
    }

    [Fact]
    public async Task TouchAsync_IdleForTheWholeTtl_ExpiredAndDroppedFromTheIndex()
    {
        var grain = NewSession();
        await grain.CreateAsync(Identity(), Ttl, MaxLifetime);

        _time.Advance(Ttl);

        Assert.Equal(SessionStatus.Expired, (await grain.TouchAsync()).Status);
        Assert.Empty(await _grains.GetGrain<IUserSessionsGrain>(_user).ListAsync());
    }

    [Fact]
    public async Task RevokeAsync_ActiveSession_RefusedAfterwardsAndIdNotReusable()
    {
        var grain = NewSession();
        await grain.CreateAsync(Identity(), Ttl, MaxLifetime);

        await grain.RevokeAsync();

        Assert.Equal(SessionStatus.Revoked, (await grain.TouchAsync()).Status);
        await Assert.ThrowsAsync<InvalidOperationException>(() => grain.CreateAsync(Identity(), Ttl, MaxLifetime));
    }

    [Fact]
    public async Task RevokeAll_TwoSessionsOfOneUser_BothRefusedOtherUserUntouched()
    {
        var first = NewSession();
        var second = NewSession();
        var otherUser = "other-" + Guid.NewGuid().ToString("N");
        var other = NewSession();
        await first.CreateAsync(Identity(), Ttl, MaxLifetime);
        await second.CreateAsync(Identity(), Ttl, MaxLifetime);
        await other.CreateAsync(new SessionIdentity(otherUser, "free", []), Ttl, MaxLifetime);
        var index = _grains.GetGrain<IUserSessionsGrain>(_user);

        // What DELETE /admin/users/{id}/sessions does: list the user's sessions, revoke each, forget them.
        var listed = await index.ListAsync();
        await Task.WhenAll(listed.Select(id => _grains.GetGrain<ISessionGrain>(id).RevokeAsync()));
        await index.ForgetAsync(listed);

        Assert.Equal(new[] { first.GetPrimaryKeyString(), second.GetPrimaryKeyString() }.Order(StringComparer.Ordinal), listed);
        Assert.Equal(SessionStatus.Revoked, (await first.TouchAsync()).Status);
        Assert.Equal(SessionStatus.Revoked, (await second.TouchAsync()).Status);
        Assert.Empty(await index.ListAsync());
        Assert.Equal(SessionStatus.Active, (await other.TouchAsync()).Status);
        Assert.Equal<string>([other.GetPrimaryKeyString()], await _grains.GetGrain<IUserSessionsGrain>(otherUser).ListAsync());
    }

    [Fact]
    public async Task TouchAsync_AfterReactivation_SlidExpiryAndIdentityRestoredFromStorage()
    {
        var grain = NewSession();
        var created = _time.GetUtcNow();
        await grain.CreateAsync(Identity(), Ttl, MaxLifetime);

        // A slide shorter than a tenth of the TTL is kept in memory only; deactivation writes it.
        _time.Advance(TimeSpan.FromSeconds(30));
        await grain.TouchAsync();
        await fixture.Cluster.DeactivateAsync(grain);
        _time.Advance(Ttl - TimeSpan.FromSeconds(15)); // past the stored first expiry, within the slid one
        var lookup = await grain.TouchAsync();

        Assert.Equal(SessionStatus.Active, lookup.Status);
        Assert.Equal(_user, lookup.Session!.Identity.UserId);
        Assert.Equal<string>(["admin"], lookup.Session.Identity.Roles);
        Assert.Equal(created + TimeSpan.FromSeconds(30) + (Ttl - TimeSpan.FromSeconds(15)) + Ttl, lookup.Session.ExpiresAt);
    }

    [Fact]
    public async Task TouchAsync_RevokedThenReactivated_StillRefused()
    {
        var grain = NewSession();
        await grain.CreateAsync(Identity(), Ttl, MaxLifetime);
        await grain.RevokeAsync();

        await fixture.Cluster.DeactivateAsync(grain);

        // The revocation deleted the state: a new activation finds no session to revive.
        Assert.NotEqual(SessionStatus.Active, (await grain.TouchAsync()).Status);
    }

    private ISessionGrain NewSession() => _grains.GetGrain<ISessionGrain>("s-" + Guid.NewGuid().ToString("N"));

    private SessionIdentity Identity() => new(_user, "pro", ["admin"]);
}
