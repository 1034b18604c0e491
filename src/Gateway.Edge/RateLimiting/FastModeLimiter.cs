using System.Collections.Concurrent;
using Gateway.Grains.Contracts;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// Fast mode: requests spend tokens leased from the grain (really taken from its bucket), sized from the rate this edge
/// observes, refilled before they run out and given back when unused. A request waits for the grain only when its
/// bucket's lease is spent, and never longer than the budget.
/// </summary>
internal sealed class FastModeLimiter(IGrainFactory grains, EdgeClock clock, BackendFailures unavailable)
{
    private readonly ShardGrains _shards = new(grains);
    private static readonly long SlotIdleTicks = TimeSpan.FromSeconds(10).Ticks;

    private readonly ConcurrentDictionary<SlotKey, LeaseSlot> _slots = new();
    private long _nextSlotSweep;

    /// <summary>Buckets this edge holds lease state for.</summary>
    public int Slots => _slots.Count;

    public async ValueTask<RateLimitDecision> AcquireAsync(string policyName, string clientKey, RateLimitRate rate, TimeSpan budget, CancellationToken cancellationToken)
    {
        var slot = SlotOf(policyName, clientKey);
        var bucket = slot.Bucket;
        var started = clock.NowTicks;
        SweepSlots(started);
        while (true)
        {
            Task<bool> pending;
            var now = clock.NowTicks;
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

            var left = budget - TimeSpan.FromTicks(clock.NowTicks - started);
            try
            {
                if (left <= TimeSpan.Zero)
                {
                    throw new TimeoutException("The rate-limit decision budget ran out.");
                }

                if (!await pending.WaitAsync(left, clock.Time, cancellationToken))
                {
                    throw new TimeoutException("The lease request failed.");
                }
            }
            catch (Exception ex) when (BackendFailures.IsUnavailable(ex, cancellationToken))
            {
                return unavailable.Report(bucket, ex);
            }
        }
    }

    /// <summary>
    /// Charges <paramref name="spent"/> requests the local bucket admitted to the bucket's leases: they are paid out of
    /// tokens this edge holds or receives next, so a lease that was on its way during the outage admits only what is left.
    /// </summary>
    public void Charge(string policyName, string clientKey, long spent)
    {
        var slot = SlotOf(policyName, clientKey);
        lock (slot.Gate)
        {
            slot.Debt += spent;
            slot.PayDebt(clock.NowTicks);
        }
    }

    // Keyed by the pair: the grain key string is built once, when a bucket's slot is created, not per request.
    private LeaseSlot SlotOf(string policyName, string clientKey) =>
        _slots.GetOrAdd(new SlotKey(policyName, clientKey), static key => new LeaseSlot(RateLimitKeys.Bucket(key.Policy, key.Client)));

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
        var want = Math.Clamp((long)Math.Ceiling(slot.ObservedRate * RateLimitRate.MaxLeaseTicks * 1.25) + 1 + slot.Debt, 1, rate.MaxLease);
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
            grant = await _shards[slot.Shard].LeaseAsync(bucket, rate, want, returning);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            unavailable.LeaseFailed(bucket, ex);
        }
        finally
        {
            lock (slot.Gate)
            {
                var now = clock.NowTicks;
                slot.Refill = null;
                if (grant is not null)
                {
                    slot.GrainRemaining = grant.Remaining;
                    slot.LastGrant = grant.Granted;
                    slot.Add(new Lease { Tokens = grant.Granted, ExpiresAt = sentAt + RateLimitRate.MaxLeaseTicks, TakenAt = sentAt }, now);
                    slot.PayDebt(now);
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

    private readonly record struct SlotKey(string Policy, string Client);
}
