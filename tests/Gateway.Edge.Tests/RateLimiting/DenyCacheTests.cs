using Gateway.Edge.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Edge.Tests.RateLimiting;

public sealed class DenyCacheTests
{
    private static readonly long Second = TimeSpan.TicksPerSecond;

    private readonly FakeTimeProvider _time = new();
    private readonly EdgeClock _clock;

    public DenyCacheTests() => _clock = new EdgeClock(_time);

    [Fact]
    public void Deny_FullOfLiveEntries_DoesNotAddNorGrow()
    {
        var cache = new DenyCache(_clock, capacity: 3);
        for (var i = 0; i < 3; i++)
        {
            cache.Deny($"b{i}", _clock.NowTicks + (60 * Second));
        }

        cache.Deny("new", _clock.NowTicks + (60 * Second));

        Assert.Equal(3, cache.Count);
        Assert.False(cache.IsDenied("new", _clock.NowTicks, out _));
        Assert.True(cache.IsDenied("b0", _clock.NowTicks, out _));
    }

    [Fact]
    public void Deny_FullWithExpiredEntries_SweepsThemAndAdds()
    {
        var cache = new DenyCache(_clock, capacity: 3);
        cache.Deny("short-1", _clock.NowTicks + Second);
        cache.Deny("short-2", _clock.NowTicks + Second);
        cache.Deny("long", _clock.NowTicks + (60 * Second));
        _time.Advance(TimeSpan.FromSeconds(2));

        cache.Deny("new", _clock.NowTicks + (60 * Second));

        Assert.Equal(2, cache.Count);
        Assert.True(cache.IsDenied("new", _clock.NowTicks, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(60), retryAfter);
        Assert.True(cache.IsDenied("long", _clock.NowTicks, out _));
    }

    [Fact]
    public void Deny_FullAndKeyAlreadyCached_ExtendsIt()
    {
        var cache = new DenyCache(_clock, capacity: 2);
        cache.Deny("a", _clock.NowTicks + Second);
        cache.Deny("b", _clock.NowTicks + Second);

        cache.Deny("a", _clock.NowTicks + (30 * Second));

        Assert.True(cache.IsDenied("a", _clock.NowTicks, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(30), retryAfter);
    }

    [Fact]
    public void Deny_ManyDistinctKeys_StaysAtCapacity()
    {
        // Above the size from which every denial may sweep (10k), so that path runs too; the default cap is 100k, which
        // this bound scales down: filling 100k entries costs a minute of CPU for the same code path.
        const int capacity = 20_000;
        var cache = new DenyCache(_clock, capacity);

        for (var i = 0; i < capacity + 5_000; i++)
        {
            cache.Deny($"ip:key-{i}", _clock.NowTicks + (60 * Second));
        }

        Assert.Equal(capacity, cache.Count);
        Assert.True(cache.IsDenied("ip:key-0", _clock.NowTicks, out _));
        Assert.False(cache.IsDenied($"ip:key-{capacity}", _clock.NowTicks, out _));
    }

    [Fact]
    public void Constructor_NoCapacity_CapsAtOneHundredThousandBuckets()
    {
        Assert.Equal(100_000, new DenyCache(_clock).Capacity);
    }
}
