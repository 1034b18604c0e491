using System.Collections.Concurrent;
using Gateway.Grains.Contracts;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Observability;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// The edge's limiter over the bucket grains. Exact mode asks the grain for every request the deny cache does not
/// already answer: a request for a bucket with no call in flight asks at once, and requests that arrive while one is in
/// flight go together in the next call, which the grain judges as that many sequential requests. Fast mode spends tokens leased from the grain (really taken from its bucket), sized from the rate this
/// edge observes, refilled before they run out and given back when unused. Either way no decision waits longer than
/// <see cref="DecisionBudget"/>; when the grains do not answer, <c>on_backend_failure</c> decides.
/// </summary>
internal sealed partial class GrainRateLimiter : IRateLimiter
{
    /// <summary>The longest a decision may take (the contract's 50 ms).</summary>
    public static readonly TimeSpan DecisionBudget = TimeSpan.FromMilliseconds(50);

    private static readonly long SlotIdleTicks = TimeSpan.FromSeconds(10).Ticks;

    /// <summary>Most requests one coalesced exact-mode call carries.</summary>
    private const int MaxBatch = 1024;

    private readonly IGrainFactory _grains;
    private readonly GatewayConfigStore _config;
    private readonly GatewayMetrics _metrics;
    private readonly EdgeClock _clock;
    private readonly ILogger<GrainRateLimiter> _logger;
    private readonly DenyCache _denials;
    private readonly ConcurrentDictionary<string, LeaseSlot> _slots = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ExactLane> _lanes = new(StringComparer.Ordinal);
    private long _nextSlotSweep;

    public GrainRateLimiter(IGrainFactory grains, GatewayConfigStore config, GatewayMetrics metrics, TimeProvider time, ILogger<GrainRateLimiter> logger)
    {
        _grains = grains;
        _config = config;
        _metrics = metrics;
        _clock = new EdgeClock(time);
        _logger = logger;
        _denials = new DenyCache(_clock);
        metrics.ObserveRateLimitEntries(() => _denials.Count, () => _lanes.Count, () => _slots.Count);
    }

    /// <summary>Buckets this edge currently answers 429 for without asking (exact mode).</summary>
    internal int CachedDenials => _denials.Count;

    /// <summary>Buckets with an exact-mode call in flight on this edge (a lane lives only while its call does).</summary>
    internal int ExactLanes => _lanes.Count;

    /// <summary>Buckets this edge holds lease state for (fast mode).</summary>
    internal int LeaseSlots => _slots.Count;

    public static RateLimitRate RateOf(RateLimitPolicy policy) => new(policy.Requests, policy.Period.Ticks, policy.Burst);

    public ValueTask<RateLimitDecision> AcquireAsync(string policyName, RateLimitPolicy policy, string clientKey, CancellationToken cancellationToken) =>
        Acquire(policyName, policy, clientKey, onBackendFailure: null, cancellationToken);

    public ValueTask<RateLimitDecision> AcquireAsync(string policyName, RateLimitPolicy policy, string clientKey, BackendFailureMode onBackendFailure, CancellationToken cancellationToken) =>
        Acquire(policyName, policy, clientKey, onBackendFailure, cancellationToken);

    private ValueTask<RateLimitDecision> Acquire(string policyName, RateLimitPolicy policy, string clientKey, BackendFailureMode? onBackendFailure, CancellationToken cancellationToken)
    {
        var bucket = RateLimitKeys.Bucket(policyName, clientKey);
        var settings = _config.Current.RateLimit;
        var onFailure = onBackendFailure ?? settings.OnBackendFailure;
        var rate = RateOf(policy);
        return settings.Mode == RateLimitMode.Fast
            ? AcquireFastAsync(bucket, rate, onFailure, cancellationToken)
            : AcquireExactAsync(bucket, rate, onFailure, cancellationToken);
    }

    /// <summary>The grain's view of one bucket (admin), within the decision budget; null when the grains do not answer.</summary>
    public async Task<RateLimitGrant?> PeekAsync(string policyName, RateLimitPolicy policy, string clientKey, CancellationToken cancellationToken)
    {
        try
        {
            return await _grains.GetGrain<IRateLimitGrain>(RateLimitKeys.Bucket(policyName, clientKey))
                .PeekAsync(RateOf(policy)).AsTask().WaitAsync(TimeSpan.FromSeconds(1), _clock.Time, cancellationToken);
        }
        catch (Exception ex) when (IsUnavailable(ex, cancellationToken))
        {
            return null;
        }
    }

    private async ValueTask<RateLimitDecision> AcquireExactAsync(string bucket, RateLimitRate rate, BackendFailureMode onFailure, CancellationToken cancellationToken)
    {
        var started = _clock.NowTicks;
        if (_denials.IsDenied(bucket, started, out var retryAfter))
        {
            return new RateLimitDecision(false, 0, retryAfter, false);
        }

        // No call in flight for this bucket: ask at once, alone. Otherwise wait for the next coalesced call.
        ExactLane lane;
        ExactWaiter? waiter = null;
        while (true)
        {
            lane = _lanes.GetOrAdd(bucket, static _ => new ExactLane());
            lock (lane.Gate)
            {
                if (lane.Retired)
                {
                    continue;
                }

                if (lane.Busy)
                {
                    waiter = new ExactWaiter(rate);
                    lane.Pending.Add(waiter);
                }

                lane.Busy = true;
                break;
            }
        }

        return waiter is null
            ? await AskAloneAsync(lane, bucket, rate, onFailure, cancellationToken)
            : await AwaitTurnAsync(waiter, bucket, started, onFailure, cancellationToken);
    }

    /// <summary>The uncontended path: one call for one request, awaited directly; whoever queued meanwhile goes next.</summary>
    private async ValueTask<RateLimitDecision> AskAloneAsync(ExactLane lane, string bucket, RateLimitRate rate, BackendFailureMode onFailure, CancellationToken cancellationToken)
    {
        var sentAt = _clock.NowTicks;
        RateLimitGrant grant;
        try
        {
            grant = await _grains.GetGrain<IRateLimitGrain>(bucket).AcquireAsync(rate).AsTask()
                .WaitAsync(DecisionBudget, _clock.Time, cancellationToken);
        }
        catch (Exception ex) when (IsUnavailable(ex, cancellationToken))
        {
            HandOver(lane, bucket);
            return Unavailable(bucket, onFailure, ex);
        }
        catch (OperationCanceledException)
        {
            HandOver(lane, bucket);
            throw;
        }

        if (grant.Granted == 0)
        {
            _denials.Deny(bucket, sentAt + grant.WaitTicks);
        }

        HandOver(lane, bucket);
        return grant.Granted > 0
            ? new RateLimitDecision(true, grant.Remaining, TimeSpan.FromTicks(grant.WaitTicks), false)
            : new RateLimitDecision(false, 0, TimeSpan.FromTicks(grant.WaitTicks), false);
    }

    /// <summary>A queued request: waits for its coalesced call within what is left of its own budget.</summary>
    private async ValueTask<RateLimitDecision> AwaitTurnAsync(ExactWaiter waiter, string bucket, long started, BackendFailureMode onFailure, CancellationToken cancellationToken)
    {
        try
        {
            var left = DecisionBudget - TimeSpan.FromTicks(_clock.NowTicks - started);
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException("The rate-limit decision budget ran out.");
            }

            return await waiter.Task.WaitAsync(left, _clock.Time, cancellationToken);
        }
        catch (Exception ex) when (Abandon(waiter) && IsUnavailable(ex, cancellationToken))
        {
            return Unavailable(bucket, onFailure, ex);
        }
    }

    /// <summary>Stops <paramref name="waiter"/> from being counted by a later call; always true (used in a filter).</summary>
    private static bool Abandon(ExactWaiter waiter)
    {
        waiter.TrySetCanceled();
        return true;
    }

    /// <summary>The call in flight is done: hands the lane to the queued requests, or retires it when none wait.</summary>
    private void HandOver(ExactLane lane, string bucket)
    {
        lock (lane.Gate)
        {
            if (lane.Pending.Count == 0)
            {
                Retire(lane, bucket);
                return;
            }
        }

        _ = PumpAsync(lane, bucket);
    }

    /// <summary>Called under the lane's lock.</summary>
    private void Retire(ExactLane lane, string bucket)
    {
        lane.Busy = false;
        lane.Retired = true;
        _lanes.TryRemove(KeyValuePair.Create(bucket, lane));
    }

    /// <summary>
    /// Asks for the queued requests, one call at a time, until none wait: each call carries every waiting request of one
    /// rate (at most <see cref="MaxBatch"/>), and the grain judges them in order at one instant.
    /// </summary>
    private async Task PumpAsync(ExactLane lane, string bucket)
    {
        var batch = new List<ExactWaiter>();
        while (true)
        {
            batch.Clear();
            RateLimitRate? rate = null;
            lock (lane.Gate)
            {
                var kept = 0;
                var pending = lane.Pending;
                for (var i = 0; i < pending.Count; i++)
                {
                    var waiter = pending[i];
                    if (waiter.Task.IsCompleted)
                    {
                        continue;
                    }

                    rate ??= waiter.Rate;
                    if (batch.Count < MaxBatch && waiter.Rate.Equals(rate))
                    {
                        batch.Add(waiter);
                    }
                    else
                    {
                        pending[kept++] = waiter;
                    }
                }

                pending.RemoveRange(kept, pending.Count - kept);
                if (rate is null)
                {
                    Retire(lane, bucket);
                    return;
                }
            }

            var sentAt = _clock.NowTicks;
            if (_denials.IsDenied(bucket, sentAt, out var retryAfter))
            {
                foreach (var waiter in batch)
                {
                    waiter.TrySetResult(new RateLimitDecision(false, 0, retryAfter, false));
                }

                continue;
            }

            try
            {
                var grain = _grains.GetGrain<IRateLimitGrain>(bucket);
                var call = batch.Count == 1 ? grain.AcquireAsync(rate) : grain.AcquireManyAsync(rate, batch.Count);
                var grant = await call.AsTask().WaitAsync(DecisionBudget, _clock.Time);
                Complete(batch, bucket, sentAt, grant);
            }
            catch (Exception ex)
            {
                foreach (var waiter in batch)
                {
                    waiter.TrySetException(ex);
                }
            }
        }
    }

    /// <summary>
    /// Files one call's answer: the first <see cref="RateLimitGrant.Granted"/> requests still waiting are admitted (each
    /// seeing what its own sequential call would have), the rest denied; a token of a request that gave up meanwhile goes
    /// to the next one, so admissions never exceed what the grain granted.
    /// </summary>
    private void Complete(List<ExactWaiter> batch, string bucket, long sentAt, RateLimitGrant grant)
    {
        if (grant.Granted < batch.Count)
        {
            _denials.Deny(bucket, sentAt + grant.WaitTicks);
        }

        var denied = new RateLimitDecision(false, 0, TimeSpan.FromTicks(grant.WaitTicks), false);
        var left = grant.Granted;
        foreach (var waiter in batch)
        {
            if (left == 0)
            {
                waiter.TrySetResult(denied);
                continue;
            }

            var remaining = grant.Remaining + left - 1;
            var wait = remaining > 0 ? 0 : grant.WaitTicks;
            if (waiter.TrySetResult(new RateLimitDecision(true, remaining, TimeSpan.FromTicks(wait), false)))
            {
                left--;
            }
        }
    }

    private async ValueTask<RateLimitDecision> AcquireFastAsync(string bucket, RateLimitRate rate, BackendFailureMode onFailure, CancellationToken cancellationToken)
    {
        var slot = _slots.GetOrAdd(bucket, static _ => new LeaseSlot());
        var started = _clock.NowTicks;
        SweepSlots(started);
        while (true)
        {
            Task<bool> pending;
            var now = _clock.NowTicks;
            lock (slot.Gate)
            {
                slot.LastUse = now;
                if (slot.TryTake(now))
                {
                    if (slot.Refill is null && NeedsRefill(slot, now))
                    {
                        slot.Refill = RefillAsync(slot, bucket, rate, now);
                    }

                    return new RateLimitDecision(true, slot.Held(now) + slot.GrainRemaining, TimeSpan.Zero, false);
                }

                if (slot.DenyUntil > now)
                {
                    return new RateLimitDecision(false, 0, TimeSpan.FromTicks(slot.DenyUntil - now), false);
                }

                pending = slot.Refill ??= RefillAsync(slot, bucket, rate, now);
            }

            var left = DecisionBudget - TimeSpan.FromTicks(_clock.NowTicks - started);
            try
            {
                if (left <= TimeSpan.Zero)
                {
                    throw new TimeoutException("The rate-limit decision budget ran out.");
                }

                if (!await pending.WaitAsync(left, _clock.Time, cancellationToken))
                {
                    throw new TimeoutException("The lease request failed.");
                }
            }
            catch (Exception ex) when (IsUnavailable(ex, cancellationToken))
            {
                return Unavailable(bucket, onFailure, ex);
            }
        }
    }

    /// <summary>Refill before running dry: at half the last lease, or in the last quarter of its life.</summary>
    private static bool NeedsRefill(LeaseSlot slot, long now) =>
        slot.Next.Tokens == 0
        && (slot.Active.Tokens <= slot.LastGrant / 2 || now >= slot.Active.ExpiresAt - (RateLimitRate.MaxLeaseTicks / 4));

    /// <summary>Asks the grain for a lease; called under the slot's lock, which it takes again to file the answer.</summary>
    private async Task<bool> RefillAsync(LeaseSlot slot, string bucket, RateLimitRate rate, long sentAt)
    {
        // Size from the rate seen here since the last request: enough for one lease lifetime, plus a margin.
        var elapsed = Math.Max(TimeSpan.TicksPerMillisecond, sentAt - slot.LastLeaseAt);
        var seen = (double)slot.UsedSinceLease / elapsed;
        slot.ObservedRate = slot.LastLeaseAt == 0 ? seen : (0.5 * slot.ObservedRate) + (0.5 * seen);
        slot.UsedSinceLease = 0;
        slot.LastLeaseAt = sentAt;
        var want = Math.Clamp((long)Math.Ceiling(slot.ObservedRate * RateLimitRate.MaxLeaseTicks * 1.25) + 1, 1, rate.MaxLease);
        long returning = 0;
        if (slot.ReturnTokens > 0 && sentAt - slot.ReturnTakenAt <= RateLimitRate.MaxReturnAgeTicks)
        {
            returning = slot.ReturnTokens;
        }

        slot.ReturnTokens = 0;
        await Task.Yield();
        RateLimitGrant? grant = null;
        try
        {
            grant = await _grains.GetGrain<IRateLimitGrain>(bucket).LeaseAsync(rate, want, returning);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogLeaseFailed(_logger, bucket, ex);
        }
        finally
        {
            lock (slot.Gate)
            {
                var now = _clock.NowTicks;
                slot.Refill = null;
                if (grant is not null)
                {
                    slot.GrainRemaining = grant.Remaining;
                    slot.LastGrant = grant.Granted;
                    slot.Add(new Lease { Tokens = grant.Granted, ExpiresAt = sentAt + RateLimitRate.MaxLeaseTicks, TakenAt = sentAt }, now);
                    // An emptied bucket answers 429 here until its next token, also for requests that found this lease spent.
                    slot.DenyUntil = grant.Remaining == 0 ? sentAt + grant.WaitTicks : 0;
                }
            }
        }

        return grant is not null;
    }

    private void SweepSlots(long now)
    {
        if (now < Interlocked.Read(ref _nextSlotSweep))
        {
            return;
        }

        Interlocked.Exchange(ref _nextSlotSweep, now + (5 * TimeSpan.TicksPerSecond));
        foreach (var (key, slot) in _slots)
        {
            if (now - Volatile.Read(ref slot.LastUse) > SlotIdleTicks && slot.Refill is null)
            {
                _slots.TryRemove(KeyValuePair.Create(key, slot));
            }
        }
    }

    private RateLimitDecision Unavailable(string bucket, BackendFailureMode onFailure, Exception exception)
    {
        var admitted = onFailure == BackendFailureMode.Open;
        _metrics.RateLimitBackendFailed(admitted);
        LogUnavailable(_logger, bucket, admitted, exception);
        return new RateLimitDecision(admitted, 0, TimeSpan.Zero, true);
    }

    private static bool IsUnavailable(Exception exception, CancellationToken cancellationToken) =>
        exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested;

    [LoggerMessage(EventId = LogEvents.RateLimiterUnavailable, Level = LogLevel.Debug, Message = "Rate limiter unavailable for {Bucket}; admitted: {Admitted}")]
    private static partial void LogUnavailable(ILogger logger, string bucket, bool admitted, Exception exception);

    [LoggerMessage(EventId = LogEvents.RateLimitLeaseFailed, Level = LogLevel.Debug, Message = "Lease request for {Bucket} failed")]
    private static partial void LogLeaseFailed(ILogger logger, string bucket, Exception exception);
}
