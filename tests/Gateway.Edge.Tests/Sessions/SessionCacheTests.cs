using System.Collections.Immutable;
using Gateway.Edge.Sessions;
using Gateway.Grains.Contracts;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Edge.Tests.Sessions;

public sealed class SessionCacheTests
{
    private static SessionLookup Active(string userId) =>
        SessionLookup.Active(new SessionSnapshot(new SessionIdentity(userId, "free", ImmutableArray<string>.Empty), DateTimeOffset.UnixEpoch));

    [Fact]
    public void TryGet_WithinLifetime_ReturnsStoredAnswer()
    {
        var time = new FakeTimeProvider();
        var cache = new SessionCache(time);
        cache.Set("s1", Active("alice"));

        time.Advance(SessionCache.Lifetime - TimeSpan.FromMilliseconds(1));

        Assert.True(cache.TryGet("s1", out var lookup));
        Assert.Equal("alice", lookup.Session!.Identity.UserId);
    }

    [Fact]
    public void TryGet_AfterLifetime_MissesSoRevocationIsSeen()
    {
        var time = new FakeTimeProvider();
        var cache = new SessionCache(time);
        cache.Set("s1", Active("alice"));

        time.Advance(SessionCache.Lifetime);

        Assert.False(cache.TryGet("s1", out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void RemoveUser_TwoUsers_DropsOnlyThatUsersSessions()
    {
        var cache = new SessionCache(new FakeTimeProvider());
        cache.Set("a1", Active("alice"));
        cache.Set("a2", Active("alice"));
        cache.Set("b1", Active("bob"));

        cache.RemoveUser("alice");

        Assert.False(cache.TryGet("a1", out _));
        Assert.False(cache.TryGet("a2", out _));
        Assert.True(cache.TryGet("b1", out _));
    }

    [Fact]
    public void Lifetime_BoundsRevocationDelay_AtMostHalfASecond()
    {
        Assert.True(SessionCache.Lifetime <= TimeSpan.FromMilliseconds(500));
    }
}
