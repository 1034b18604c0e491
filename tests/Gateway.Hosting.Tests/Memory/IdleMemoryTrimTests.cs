using Gateway.Hosting.Memory;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Hosting.Tests.Memory;

public sealed class IdleMemoryTrimTests
{
    private const long MiB = 1L << 20;
    private long _allocated;
    private long _committed = 100 * MiB;
    private long _resident = 300 * MiB;
    private int _collections;

    private IdleMemoryTrim Trim() => new(
        new FakeTimeProvider(),
        NullLogger<IdleMemoryTrim>.Instance,
        new IdleMemoryTrim.Gc(
            () => _allocated,
            () => _committed,
            () =>
            {
                _collections++;
                _committed = 110 * MiB;
                _resident = 300 * MiB;
            },
            () => _resident));

    [Fact]
    public void Check_IdleAfterGrowth_CollectsOnce()
    {
        var trim = Trim();
        trim.Check();

        // The burst: much allocated, committed memory grown.
        _allocated += 500 * MiB;
        _committed = 200 * MiB;
        Assert.False(trim.Check());

        // Idle now.
        _allocated += MiB;
        Assert.True(trim.Check());
        _allocated += MiB;
        Assert.False(trim.Check());

        Assert.Equal(1, _collections);
        Assert.Equal(1, trim.Trims);
    }

    [Fact]
    public void Check_GrownButBusy_DoesNotCollect()
    {
        var trim = Trim();
        trim.Check();
        _committed = 300 * MiB;

        for (var i = 0; i < 5; i++)
        {
            _allocated += IdleMemoryTrim.IdleAllocation;
            Assert.False(trim.Check());
        }

        Assert.Equal(0, _collections);
    }

    [Fact]
    public void Check_IdleWithoutGrowth_DoesNotCollect()
    {
        var trim = Trim();
        trim.Check();
        _committed += IdleMemoryTrim.Growth;

        for (var i = 0; i < 5; i++)
        {
            _allocated += MiB;
            Assert.False(trim.Check());
        }

        Assert.Equal(0, _collections);
    }

    [Fact]
    public void Check_IdleAfterGrowthBelowOldBound_Collects()
    {
        var trim = Trim();
        trim.Check();

        // A burst that grew this process by a little more than Growth (each of two silos, 20 MiB each).
        _allocated += 100 * MiB;
        _committed += 20 * MiB;
        Assert.False(trim.Check());

        _allocated += MiB;
        Assert.True(trim.Check());
        Assert.Equal(1, _collections);
    }

    [Fact]
    public void Check_GrowthAfterTrimCountsFromTrimmedSize_CollectsAgain()
    {
        var trim = Trim();
        trim.Check();
        _allocated += 500 * MiB;
        _committed = 200 * MiB;
        trim.Check();
        _allocated += MiB;
        Assert.True(trim.Check());

        // After the trim (110 MiB) a second burst grows the process past 110 + Growth: judged from the trimmed size.
        _allocated += 200 * MiB;
        _committed = 110 * MiB + IdleMemoryTrim.Growth + MiB;
        Assert.False(trim.Check());
        _allocated += MiB;
        Assert.True(trim.Check());
        Assert.Equal(2, _collections);
    }

    [Fact]
    public void Check_IdleAfterResidentGrowthOnly_Collects()
    {
        var trim = Trim();
        trim.Check();

        // The GC's own memory barely moved, the process's resident set grew (native memory of the burst).
        _allocated += 10 * MiB;
        _committed += MiB;
        _resident += IdleMemoryTrim.ResidentGrowth + MiB;

        Assert.True(trim.Check());
        Assert.Equal(1, _collections);
    }

    [Fact]
    public void Check_ResidentGrowthWithinBound_DoesNotCollect()
    {
        var trim = Trim();
        trim.Check();
        _resident += IdleMemoryTrim.ResidentGrowth;

        for (var i = 0; i < 5; i++)
        {
            _allocated += MiB;
            Assert.False(trim.Check());
        }

        Assert.Equal(0, _collections);
    }
}
