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
    public void TryGet_IdInsideAToken_FindsTheEntryAndSharesItsFeature()
    {
        var cache = new SessionCache(new FakeTimeProvider());
        cache.Set("s1", Active("alice"));
        cache.Set("s2", SessionLookup.Expired);

        Assert.True(cache.TryGet("v1.key.s1.mac".AsSpan(7, 2), out var first));
        Assert.True(cache.TryGet("s1".AsSpan(), out var second));
        Assert.True(cache.TryGet("s2".AsSpan(), out var expired));

        Assert.Equal("s1", first.SessionId);
        Assert.Equal("alice", first.Feature!.Identity.UserId);
        Assert.Same(first.Feature, second.Feature);
        Assert.Null(expired.Feature);
        Assert.False(cache.TryGet("s3".AsSpan(), out _));
    }

    [Fact]
    public void TryGet_AfterLifetime_MissesSoRevocationIsSeen()
    {
        var time = new FakeTimeProvider();
        var cache = new SessionCache(time);
        cache.Set("s1", Active("alice"));

        time.Advance(SessionCache.Lifetime);

        Assert.False(cache.TryGet("s1", out _));
    }

    [Fact]
    public void TryFind_ActiveAnswerWithinStaleWindow_KeptAsLastGoodAnswerThenDropped()
    {
        var time = new FakeTimeProvider();
        var cache = new SessionCache(time);
        cache.Set("s1", Active("alice"));
        cache.Set("s2", SessionLookup.Revoked);
        time.Advance(SessionCache.Lifetime);

        Assert.True(cache.TryFind("s1", out var last));
        Assert.False(cache.IsFresh(last));
        Assert.False(cache.TryFind("s2", out _));

        time.Advance(SessionAnswers.StaleWindow - SessionCache.Lifetime);

        Assert.False(cache.TryFind("s1", out _));
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
    public void TryGet_HalfASecondAfterSet_MissesSoARevocationElsewhereIsSeenWithinHalfASecond()
    {
        var time = new FakeTimeProvider();
        var cache = new SessionCache(time);
        cache.Set("s1", Active("alice"));
        time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.True(cache.TryGet("s1", out _));

        // Another edge revoked the session: this edge goes on answering from its cache only until the entry expires.
        time.Advance(TimeSpan.FromMilliseconds(250));

        Assert.False(cache.TryGet("s1", out _));
    }

    [Fact]
    public void Set_AgainAfterExpiry_ServesTheNewAnswerForAnotherLifetime()
    {
        var time = new FakeTimeProvider();
        var cache = new SessionCache(time);
        cache.Set("s1", Active("alice"));
        time.Advance(TimeSpan.FromMilliseconds(500));
        cache.Set("s1", Active("bob"));

        time.Advance(TimeSpan.FromMilliseconds(250));

        Assert.True(cache.TryGet("s1", out var lookup));
        Assert.Equal("bob", lookup.Session!.Identity.UserId);
    }
}
