using Gateway.Grains.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Placement;
using Orleans.Storage;

namespace Gateway.Grains.RateLimiting;

/// <summary>
/// One shard of the buckets (<see cref="RateLimitKeys.Shard"/>), in memory. Membership changes do not hand out a fresh
/// bucket: the buckets in debt are written on deactivation and read back, all at once, on activation; while in use they
/// are checkpointed in one write per shard, at most <see cref="CheckpointDelay"/> after some bucket's unsaved debt
/// became worth it, which bounds what a crash can give away. Buckets that are full and unused are evicted every sweep.
/// Placed by a hash of the shard number over the silos, so the shards spread over the cluster.
/// </summary>
[HashBasedPlacement]
internal sealed partial class RateLimitShardGrain : Grain, IRateLimitShardGrain
{
    /// <summary>Longest time an unsaved debt waits before it is checkpointed; also how often idle buckets are evicted.</summary>
    internal static readonly TimeSpan CheckpointDelay = TimeSpan.FromSeconds(1);

    private const string WarmUpBucket = "warm-up|shard";

    private readonly IPersistentState<RateLimitShardState> _state;
    private readonly TimeProvider _time;
    private readonly ILogger<RateLimitShardGrain> _logger;
    private readonly ShardBuckets _buckets = new();
    private long _lastSweep;

    /// <summary>When every bucket of the stored checkpoint is full again: from then on it is deleted (UTC ticks).</summary>
    private long _checkpointFullAt;

    public RateLimitShardGrain(
        [PersistentState("shard", StorageNames.RateLimits)] IPersistentState<RateLimitShardState> state,
        [FromKeyedServices(RateLimitClock.Key)] TimeProvider time,
        ILogger<RateLimitShardGrain> logger)
    {
        _state = state;
        _time = time;
        _logger = logger;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var checkpoint = _state.State.Buckets;
        _buckets.Restore(checkpoint);
        _checkpointFullAt = checkpoint.Count == 0 ? 0 : checkpoint.Values.Max();
        LogActivated(_logger, GrainContext.GrainId, checkpoint.Count);

        // The checkpoint is kept by the buckets alone (a write sets the map, the map is dropped after it).
        _state.State.Buckets = new(StringComparer.Ordinal);
        _lastSweep = Now;
        this.RegisterGrainTimer(OnTimerAsync, new GrainTimerCreationOptions
        {
            DueTime = CheckpointDelay,
            Period = CheckpointDelay,
            Interleave = false,
            KeepAlive = false,
        });
        return Task.CompletedTask;
    }

    public ValueTask<RateLimitGrant> AcquireAsync(string bucket, RateLimitRate rate)
    {
        ShardCallStats.Answered(1);
        return ValueTask.FromResult(_buckets.Acquire(bucket, rate, Now, 1));
    }

    public ValueTask<RateLimitGrants> AcquireBatchAsync(RateLimitAsks asks)
    {
        ArgumentNullException.ThrowIfNull(asks);
        var now = Now;
        var items = asks.Items;
        var grants = new RateLimitGrant[items.Length];
        long decisions = 0;
        for (var i = 0; i < items.Length; i++)
        {
            var ask = items[i];
            grants[i] = _buckets.Acquire(ask.Bucket, ask.Rate, now, ask.Count, ask.Debt);
            decisions += ask.Count;
        }

        ShardCallStats.Answered(decisions);

        return ValueTask.FromResult(new RateLimitGrants(grants));
    }

    public ValueTask<RateLimitGrant> LeaseAsync(string bucket, RateLimitRate rate, long want, long returning) =>
        ValueTask.FromResult(_buckets.Lease(bucket, rate, Now, want, returning));

    public ValueTask<RateLimitGrant> PeekAsync(string bucket, RateLimitRate rate) =>
        ValueTask.FromResult(_buckets.Peek(bucket, rate, Now));

    public ValueTask WarmUpAsync()
    {
        // Runs each decision path once on a bucket no client has (a full bucket, evicted by the next sweep).
        var rate = new RateLimitRate(1, TimeSpan.TicksPerSecond, 1);
        _buckets.Peek(WarmUpBucket, rate, Now);
        _buckets.Lease(WarmUpBucket, rate, Now, 0, 0);
        _buckets.Acquire(WarmUpBucket, rate, Now, 0);
        return ValueTask.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        var now = Now;
        try
        {
            var snapshot = _buckets.Snapshot(now);
            if (snapshot.Count > 0 && _buckets.Changed)
            {
                await SaveAsync(cancellationToken);
            }
            else if (snapshot.Count == 0 && _state.RecordExists)
            {
                await _state.ClearStateAsync(cancellationToken);
            }

            LogDeactivated(_logger, GrainContext.GrainId, reason.ReasonCode, snapshot.Count);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCheckpointFailed(_logger, GrainContext.GrainId, ex);
        }
    }

    private long Now => _time.GetUtcNow().UtcTicks;

    private async Task OnTimerAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_buckets.Dirty)
            {
                await SaveAsync(cancellationToken);
            }
            else if (_state.RecordExists && _checkpointFullAt <= Now)
            {
                // Nothing stored is in debt any more: a checkpoint lives only while some bucket needs it.
                await _state.ClearStateAsync(cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCheckpointFailed(_logger, GrainContext.GrainId, ex);
        }

        // A bucket called since the last sweep stays until the next one, so a steady client is not re-created each time.
        var now = Now;
        _buckets.Evict(now, _lastSweep);
        _lastSweep = now;
    }

    /// <summary>Writes every bucket in debt in one checkpoint; on a conflict, folds in the other copy's and writes again.</summary>
    private async Task SaveAsync(CancellationToken cancellationToken)
    {
        try
        {
            await WriteAsync(cancellationToken);
        }
        catch (InconsistentStateException)
        {
            // Another activation of this shard wrote since this one read (a duplicate the directory allowed in a
            // membership change, or a partitioned silo). Keep the later theoretical arrival of each bucket.
            await _state.ReadStateAsync(cancellationToken);
            var theirs = _state.State.Buckets;
            LogConflictMerged(_logger, GrainContext.GrainId, theirs.Count);
            _buckets.Merge(theirs);
            await WriteAsync(cancellationToken);
        }
    }

    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        var snapshot = _state.State.Buckets = _buckets.Snapshot(Now);
        try
        {
            if (_state.State.Buckets.Count > 0)
            {
                await _state.WriteStateAsync(cancellationToken);
            }
            else if (_state.RecordExists)
            {
                await _state.ClearStateAsync(cancellationToken);
            }

            _buckets.Saved();
            _checkpointFullAt = snapshot.Count == 0 ? 0 : snapshot.Values.Max();
        }
        finally
        {
            _state.State.Buckets = new(StringComparer.Ordinal);
        }
    }

    [LoggerMessage(EventId = LogEvents.RateLimitBucketActivated, Level = LogLevel.Debug, Message = "Rate-limit shard {Shard} activated with {Restored} buckets in debt from its checkpoint")]
    private static partial void LogActivated(ILogger logger, GrainId shard, int restored);

    [LoggerMessage(EventId = LogEvents.RateLimitBucketDeactivated, Level = LogLevel.Debug, Message = "Rate-limit shard {Shard} deactivated ({Reason}) with {InDebt} buckets in debt")]
    private static partial void LogDeactivated(ILogger logger, GrainId shard, DeactivationReasonCode reason, int inDebt);

    [LoggerMessage(EventId = LogEvents.RateLimitConflictMerged, Level = LogLevel.Warning, Message = "Rate-limit shard {Shard} had a second activation; merged its checkpoint of {Buckets} buckets")]
    private static partial void LogConflictMerged(ILogger logger, GrainId shard, int buckets);

    [LoggerMessage(EventId = LogEvents.RateLimitCheckpointFailed, Level = LogLevel.Warning, Message = "Could not checkpoint rate-limit shard {Shard}")]
    private static partial void LogCheckpointFailed(ILogger logger, GrainId shard, Exception exception);
}
