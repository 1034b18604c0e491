using System.Collections.Concurrent;
using Gateway.Grains.Contracts;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// Exact mode: the grain decides every request the deny cache does not already answer. A request for a bucket with no
/// call in flight asks at once; requests that arrive while one is in flight go together in the next call, which the
/// grain judges as that many sequential requests (a hot key costs one grain call per round trip, not one per request).
/// When the grain does not answer within the budget the decision says so (<see cref="RateLimitDecision.BackendUnavailable"/>)
/// and the caller applies <c>on_backend_failure</c>.
/// </summary>
internal sealed class ExactModeLimiter(IGrainFactory grains, EdgeClock clock, BackendFailures unavailable)
{
    /// <summary>Most requests one coalesced call carries.</summary>
    private const int MaxBatch = 1024;

    private readonly DenyCache _denials = new(clock);
    private readonly ConcurrentDictionary<string, ExactLane> _lanes = new(StringComparer.Ordinal);

    /// <summary>Buckets this edge currently answers 429 for without asking.</summary>
    public int CachedDenials => _denials.Count;

    /// <summary>Buckets with a call in flight (a lane lives only while its call does).</summary>
    public int Lanes => _lanes.Count;

    public async ValueTask<RateLimitDecision> AcquireAsync(string bucket, RateLimitRate rate, TimeSpan budget, CancellationToken cancellationToken)
    {
        var started = clock.NowTicks;
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
                    waiter = new ExactWaiter(rate, budget);
                    lane.Pending.Add(waiter);
                }

                lane.Busy = true;
                break;
            }
        }

        return waiter is null
            ? await AskAloneAsync(lane, bucket, rate, budget, cancellationToken)
            : await AwaitTurnAsync(waiter, bucket, started, cancellationToken);
    }

    /// <summary>The uncontended path: one call for one request, awaited directly; whoever queued meanwhile goes next.</summary>
    private async ValueTask<RateLimitDecision> AskAloneAsync(ExactLane lane, string bucket, RateLimitRate rate, TimeSpan budget, CancellationToken cancellationToken)
    {
        var sentAt = clock.NowTicks;
        RateLimitGrant grant;
        try
        {
            grant = await grains.GetGrain<IRateLimitGrain>(bucket).AcquireAsync(rate).AsTask()
                .WaitAsync(budget, clock.Time, cancellationToken);
        }
        catch (Exception ex) when (BackendFailures.IsUnavailable(ex, cancellationToken))
        {
            HandOver(lane, bucket);
            return unavailable.Report(bucket, ex);
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
    private async ValueTask<RateLimitDecision> AwaitTurnAsync(ExactWaiter waiter, string bucket, long started, CancellationToken cancellationToken)
    {
        try
        {
            var left = waiter.Budget - TimeSpan.FromTicks(clock.NowTicks - started);
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException("The rate-limit decision budget ran out.");
            }

            return await waiter.Task.WaitAsync(left, clock.Time, cancellationToken);
        }
        catch (Exception ex) when (Abandon(waiter) && BackendFailures.IsUnavailable(ex, cancellationToken))
        {
            return unavailable.Report(bucket, ex);
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

            var sentAt = clock.NowTicks;
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
                var grain = grains.GetGrain<IRateLimitGrain>(bucket);
                var call = batch.Count == 1 ? grain.AcquireAsync(rate) : grain.AcquireManyAsync(rate, batch.Count);
                var grant = await call.AsTask().WaitAsync(batch.Max(waiter => waiter.Budget), clock.Time);
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
}
