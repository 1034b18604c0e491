using Gateway.Grains.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Gateway.Grains.RateLimiting;

/// <summary>
/// One client's bucket under one policy, in memory. Membership changes do not hand out a fresh bucket: the state is
/// written on deactivation (when the bucket is not full) and read back on activation; while in use it is checkpointed
/// lazily, at most once per <see cref="CheckpointDelay"/> and only once the unsaved debt is worth it, which bounds what a
/// crash can give away. An idle bucket deactivates about one period after its last call, once it is full again.
/// </summary>
internal sealed partial class RateLimitGrain : Grain, IRateLimitGrain
{
    /// <summary>Longest time an unsaved debt waits before it is checkpointed.</summary>
    internal static readonly TimeSpan CheckpointDelay = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan MinIdle = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MaxIdle = TimeSpan.FromMinutes(10);

    private readonly IPersistentState<RateLimitBucketState> _state;
    private readonly TimeProvider _time;
    private readonly ILogger<RateLimitGrain> _logger;
    private GcraBucket _bucket = new();
    private RateLimitRate? _rate;
    private long _saved;
    private long _lastCall;
    private IGrainTimer? _timer;
    private long _timerDue;

    public RateLimitGrain(
        [PersistentState("bucket", StorageNames.RateLimits)] IPersistentState<RateLimitBucketState> state,
        [FromKeyedServices(RateLimitClock.Key)] TimeProvider time,
        ILogger<RateLimitGrain> logger)
    {
        _state = state;
        _time = time;
        _logger = logger;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _saved = _state.RecordExists ? _state.State.TheoreticalArrival : 0;
        _bucket = new GcraBucket(_saved);
        _lastCall = Now;
        _timer = this.RegisterGrainTimer(OnTimerAsync, new GrainTimerCreationOptions
        {
            DueTime = MinIdle,
            Period = Timeout.InfiniteTimeSpan,
            Interleave = false,
            KeepAlive = false,
        });
        _timerDue = _lastCall + MinIdle.Ticks;
        var restoredDebt = _saved > _lastCall ? (_saved - _lastCall) / TimeSpan.TicksPerMillisecond : 0;
        LogActivated(_logger, GrainContext.GrainId, _state.RecordExists, restoredDebt);

        return Task.CompletedTask;
    }

    public ValueTask<RateLimitGrant> AcquireAsync(RateLimitRate rate)
    {
        var now = Now;
        var granted = _bucket.TryTake(rate, now) ? 1 : 0;
        return ValueTask.FromResult(Touched(rate, now, granted));
    }

    public ValueTask<RateLimitGrant> AcquireManyAsync(RateLimitRate rate, long count)
    {
        var now = Now;
        var granted = _bucket.TakeUpTo(rate, now, count);
        return ValueTask.FromResult(Touched(rate, now, granted));
    }

    public ValueTask<RateLimitGrant> LeaseAsync(RateLimitRate rate, long want, long returning)
    {
        var now = Now;
        _bucket.Return(rate, now, Math.Min(returning, rate.MaxLease));
        var granted = _bucket.TakeUpTo(rate, now, Math.Min(want, rate.MaxLease));
        return ValueTask.FromResult(Touched(rate, now, granted));
    }

    public ValueTask<RateLimitGrant> PeekAsync(RateLimitRate rate)
    {
        var now = Now;
        return ValueTask.FromResult(_bucket.Grant(rate, now, 0));
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        var now = Now;
        try
        {
            if (!_bucket.IsFull(now) && _bucket.TheoreticalArrival != _saved)
            {
                await SaveAsync(cancellationToken);
            }
            else if (_bucket.IsFull(now) && _state.RecordExists)
            {
                await _state.ClearStateAsync(cancellationToken);
            }

            var debt = _bucket.IsFull(now) ? 0 : (_bucket.TheoreticalArrival - now) / TimeSpan.TicksPerMillisecond;
            LogDeactivated(_logger, GrainContext.GrainId, reason.ReasonCode, debt);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCheckpointFailed(_logger, this.GetPrimaryKeyString(), ex);
        }
    }

    private long Now => _time.GetUtcNow().UtcTicks;

    private RateLimitGrant Touched(RateLimitRate rate, long now, long granted)
    {
        _rate = rate;
        _lastCall = now;
        if (NeedsCheckpoint(rate, now))
        {
            Arm(now + CheckpointDelay.Ticks);
        }

        return _bucket.Grant(rate, now, granted);
    }

    /// <summary>
    /// Worth a write once the debt the checkpoint does not cover (what a restart from it would give away) reaches a tenth
    /// of the burst, at least one token. A bucket whose debt has drained needs none, whatever was saved before.
    /// </summary>
    private bool NeedsCheckpoint(RateLimitRate rate, long now) =>
        _bucket.TheoreticalArrival - Math.Max(_saved, now) >= rate.EmissionTicks * Math.Max(1, rate.Burst / 10);

    private void Arm(long due)
    {
        if (_timer is null || _timerDue <= due)
        {
            return;
        }

        _timerDue = due;
        _timer.Change(TimeSpan.FromTicks(Math.Max(0, due - Now)), Timeout.InfiniteTimeSpan);
    }

    private async Task OnTimerAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        _timerDue = long.MaxValue;
        var rate = _rate;
        if (rate is not null && NeedsCheckpoint(rate, now))
        {
            try
            {
                await SaveAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogCheckpointFailed(_logger, this.GetPrimaryKeyString(), ex);
            }
        }

        var idle = rate is null ? MinIdle : TimeSpan.FromTicks(Math.Clamp(rate.PeriodTicks, MinIdle.Ticks, MaxIdle.Ticks));
        var idleUntil = _lastCall + idle.Ticks;
        if (now >= idleUntil && _bucket.IsFull(now))
        {
            // Nothing left to remember: OnDeactivateAsync deletes a stale checkpoint.
            DeactivateOnIdle();
            return;
        }

        var next = Math.Max(idleUntil, _bucket.TheoreticalArrival);
        if (rate is not null && NeedsCheckpoint(rate, now))
        {
            next = Math.Min(next, now + CheckpointDelay.Ticks);
        }

        _timerDue = Math.Max(next, now + TimeSpan.TicksPerMillisecond * 100);
        _timer?.Change(TimeSpan.FromTicks(_timerDue - now), Timeout.InfiniteTimeSpan);
    }

    private async Task SaveAsync(CancellationToken cancellationToken)
    {
        try
        {
            await WriteAsync(cancellationToken);
        }
        catch (InconsistentStateException)
        {
            // Another activation of this bucket wrote since this one read (a duplicate the directory allowed in a
            // membership change, or a partitioned silo). Keep the later theoretical arrival of the two: never a token
            // that the other one handed out comes back.
            await _state.ReadStateAsync(cancellationToken);
            var theirs = _state.RecordExists ? _state.State.TheoreticalArrival : 0;
            LogConflictMerged(_logger, GrainContext.GrainId, (theirs - _bucket.TheoreticalArrival) / TimeSpan.TicksPerMillisecond);
            _bucket.Merge(theirs);
            await WriteAsync(cancellationToken);
        }
    }

    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        var value = _bucket.TheoreticalArrival;
        _state.State.TheoreticalArrival = value;
        await _state.WriteStateAsync(cancellationToken);
        _saved = value;
    }

    [LoggerMessage(EventId = LogEvents.RateLimitBucketActivated, Level = LogLevel.Debug, Message = "Rate-limit bucket {Bucket} activated (checkpoint found: {Restored}, debt {DebtMs} ms)")]
    private static partial void LogActivated(ILogger logger, GrainId bucket, bool restored, long debtMs);

    [LoggerMessage(EventId = LogEvents.RateLimitBucketDeactivated, Level = LogLevel.Debug, Message = "Rate-limit bucket {Bucket} deactivated ({Reason}) with debt {DebtMs} ms")]
    private static partial void LogDeactivated(ILogger logger, GrainId bucket, DeactivationReasonCode reason, long debtMs);

    [LoggerMessage(EventId = LogEvents.RateLimitConflictMerged, Level = LogLevel.Warning, Message = "Rate-limit bucket {Bucket} had a second activation; merged its checkpoint ({AheadMs} ms ahead of this one)")]
    private static partial void LogConflictMerged(ILogger logger, GrainId bucket, long aheadMs);

    [LoggerMessage(EventId = LogEvents.RateLimitCheckpointFailed, Level = LogLevel.Warning, Message = "Could not checkpoint rate-limit bucket {Bucket}")]
    private static partial void LogCheckpointFailed(ILogger logger, string bucket, Exception exception);
}
