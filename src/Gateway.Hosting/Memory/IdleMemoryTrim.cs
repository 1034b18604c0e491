using System.Runtime;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting.Memory;

/// <summary>
/// Gives memory back once a silo goes idle after a burst. The GC collects only when allocations fill its budgets, so a
/// process that stops allocating keeps whatever it had committed at its peak: measured after a flood of 100k client
/// keys, a silo made 0 collections in 45 s of idle and kept every megabyte (its evicted buckets, the checkpoint
/// snapshots and serializer buffers of the flood, the young-generation budget), whatever the GC mode. So every
/// <see cref="Period"/> this looks at the GC: when the process allocated less than <see cref="IdleAllocation"/> since
/// the last look (idle) and either the GC's committed memory is more than <see cref="Growth"/> above what it was after
/// the last trim (or at start) or the resident set is more than <see cref="ResidentGrowth"/> above it, it runs one
/// aggressive full collection that compacts the large-object heap and decommits what is free, then has the C heap
/// hand back its free pages (<see cref="NativeHeap"/>). Both growths are small and judged per process: a flood spread
/// over two silos grew each by less than 32 MiB (the bound used before), so neither trimmed while their sum stayed
/// 33 MiB above the baseline. A heap dump of each silo before a flood and after the idle showed the same live heap
/// (86 MB), so the keys leave nothing reachable; what stayed was committed memory, and on a silo that mostly forwards
/// (little allocated, so its GC memory barely grew) resident memory outside the GC: a trim took one from 252 to 236 MiB
/// with the GC's committed memory unchanged at 84 MiB. Cost: one blocking collection of the live heap (tens of
/// milliseconds here, a few hundred on a saturated machine) per burst, taken while idle; decisions in flight on the
/// silo wait for it.
/// </summary>
public sealed partial class IdleMemoryTrim(TimeProvider time, ILogger<IdleMemoryTrim> logger, IdleMemoryTrim.Gc? gc = null) : BackgroundService
{
    /// <summary>How often the GC is looked at.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(15);

    /// <summary>Less allocated than this within a period counts as idle (an idle silo allocates about 2 MiB per 15 s).</summary>
    public const long IdleAllocation = 16L << 20;

    /// <summary>Resident memory above the last trim's that is worth a collection, when the GC's own grew less (native memory: thread arenas of the C heap).</summary>
    public const long ResidentGrowth = 16L << 20;

    /// <summary>Committed memory above the last trim's that is worth a collection (well above how much it moves while a silo is idle, well below a burst's growth).</summary>
    public const long Growth = 8L << 20;

    private readonly Gc _gc = gc ?? Gc.Runtime;
    private long _allocated = -1;
    private long _committedAfterTrim = -1;
    private long _residentAfterTrim = -1;

    /// <summary>Collections run so far.</summary>
    public int Trims { get; private set; }

    /// <summary>One look: trims when the process is idle and has grown since the last trim. Returns whether it trimmed.</summary>
    public bool Check()
    {
        var allocated = _gc.Allocated();
        var committed = _gc.Committed();
        var resident = _gc.Resident();
        var idle = _allocated >= 0 && allocated - _allocated < IdleAllocation;
        _allocated = allocated;
        if (_committedAfterTrim < 0)
        {
            _committedAfterTrim = committed;
            _residentAfterTrim = resident;
            return false;
        }

        if (!idle || (committed - _committedAfterTrim <= Growth && resident - _residentAfterTrim <= ResidentGrowth))
        {
            return false;
        }

        _gc.Collect();
        var after = _gc.Committed();
        var residentAfter = _gc.Resident();
        Trims++;
        LogTrimmed(logger, committed >> 20, after >> 20, resident >> 20, residentAfter >> 20);
        _committedAfterTrim = after;
        _residentAfterTrim = residentAfter;
        _allocated = _gc.Allocated();
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Check();
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    [LoggerMessage(EventId = LogEvents.IdleMemoryTrimmed, Level = LogLevel.Information, Message = "Idle after a burst: a full collection took the GC's committed memory from {BeforeMiB} MiB to {AfterMiB} MiB, the resident set from {ResidentBeforeMiB} MiB to {ResidentAfterMiB} MiB")]
    private static partial void LogTrimmed(ILogger logger, long beforeMiB, long afterMiB, long residentBeforeMiB, long residentAfterMiB);

    /// <summary>What the trim reads of the GC and how it collects (replaced in tests).</summary>
    public sealed record Gc(Func<long> Allocated, Func<long> Committed, Action Collect, Func<long>? ResidentSet = null)
    {
        public static Gc Runtime { get; } = new(
            () => GC.GetTotalAllocatedBytes(),
            () => GC.GetGCMemoryInfo().TotalCommittedBytes,
            () =>
            {
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                NativeHeap.Trim();
            },
            () => Environment.WorkingSet);

        /// <summary>The process's resident set (0 when not measured: only the GC's growth counts then).</summary>
        public long Resident() => ResidentSet?.Invoke() ?? 0;
    }
}
