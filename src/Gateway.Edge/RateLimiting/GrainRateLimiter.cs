using System.Collections.Concurrent;
using Gateway.Grains.Contracts;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Observability;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// The edge's limiter over the bucket grains. Exact mode asks the grain for every request the deny cache does not
/// already answer. Fast mode spends tokens leased from the grain (really taken from its bucket), sized from the rate this
/// edge observes, refilled before they run out and given back when unused. Either way no decision waits longer than
/// <see cref="DecisionBudget"/>; when the grains do not answer, <c>on_backend_failure</c> decides.
/// </summary>
internal sealed partial class GrainRateLimiter : IRateLimiter
{
    /// <summary>The longest a decision may take (the contract's 50 ms).</summary>
    public static readonly TimeSpan DecisionBudget = TimeSpan.FromMilliseconds(50);

    private static readonly long SlotIdleTicks = TimeSpan.FromSeconds(10).Ticks;

    private readonly IGrainFactory _grains;
    private readonly GatewayConfigStore _config;
    private readonly GatewayMetrics _metrics;
    private readonly EdgeClock _clock;
    private readonly ILogger<GrainRateLimiter> _logger;
    private readonly DenyCache _denials;
    private readonly ConcurrentDictionary<string, LeaseSlot> _slots = new(StringComparer.Ordinal);
    private long _nextSlotSweep;

    public GrainRateLimiter(IGrainFactory grains, GatewayConfigStore config, GatewayMetrics metrics, TimeProvider time, ILogger<GrainRateLimiter> logger)
    {
        _grains = grains;
        _config = config;
        _metrics = metrics;
        _clock = new EdgeClock(time);
        _logger = logger;
        _denials = new DenyCache(_clock);
    }

    /// <summary>Buckets this edge currently answers 429 for without asking (exact mode).</summary>
    internal int CachedDenials => _denials.Count;

    /// <summary>Buckets this edge holds lease state for (fast mode).</summary>
    internal int LeaseSlots => _slots.Count;

    public static RateLimitRate RateOf(RateLimitPolicy policy) => new(policy.Requests, policy.Period.Ticks, policy.Burst);

    public ValueTask<RateLimitDecision> AcquireAsync(string policyName, RateLimitPolicy policy, string clientKey, CancellationToken cancellationToken)
    {
        var bucket = RateLimitKeys.Bucket(policyName, clientKey);
        var settings = _config.Current.RateLimit;
        var rate = RateOf(policy);
        return settings.Mode == RateLimitMode.Fast
            ? AcquireFastAsync(bucket, rate, settings.OnBackendFailure, cancellationToken)
            : AcquireExactAsync(bucket, rate, settings.OnBackendFailure, cancellationToken);
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
        var sentAt = _clock.NowTicks;
        if (_denials.IsDenied(bucket, sentAt, out var retryAfter))
        {
            return new RateLimitDecision(false, 0, retryAfter, false);
        }

        RateLimitGrant grant;
        try
        {
            grant = await _grains.GetGrain<IRateLimitGrain>(bucket).AcquireAsync(rate).AsTask()
                .WaitAsync(DecisionBudget, _clock.Time, cancellationToken);
        }
        catch (Exception ex) when (IsUnavailable(ex, cancellationToken))
        {
            return Unavailable(bucket, onFailure, ex);
        }

        if (grant.Granted > 0)
        {
            return new RateLimitDecision(true, grant.Remaining, TimeSpan.FromTicks(grant.WaitTicks), false);
        }

        _denials.Deny(bucket, sentAt + grant.WaitTicks);
        return new RateLimitDecision(false, 0, TimeSpan.FromTicks(grant.WaitTicks), false);
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

    [LoggerMessage(EventId = 310, Level = LogLevel.Debug, Message = "Rate limiter unavailable for {Bucket}; admitted: {Admitted}")]
    private static partial void LogUnavailable(ILogger logger, string bucket, bool admitted, Exception exception);

    [LoggerMessage(EventId = 311, Level = LogLevel.Debug, Message = "Lease request for {Bucket} failed")]
    private static partial void LogLeaseFailed(ILogger logger, string bucket, Exception exception);
}
