using Gateway.Grains.Contracts;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// Exact mode: the bucket's shard grain decides every request the deny cache does not already answer. A request whose
/// shard has no call in flight asks at once; requests that arrive while one is in flight, for any bucket of that shard,
/// go together in the next call, which the shard judges in order (a burst of many clients costs one call per shard per
/// round trip, not one per client). The budget counts from when a request's call is sent: waiting in this edge's own
/// queue behind a call that is being answered is not the grain failing to answer. How long a call may take depends on
/// whether its shard is answering (<see cref="ExactCallLimits"/>). When the call does not answer in time, or the request
/// has waited <see cref="ExactCallLimits.MaxWaitBudgets"/> budgets in all, the decision says so
/// (<see cref="RateLimitDecision.BackendUnavailable"/>) and the caller applies <c>on_backend_failure</c>.
/// </summary>
internal sealed partial class ExactModeLimiter
{
    /// <summary>Most requests one batched call carries.</summary>
    private const int MaxBatch = 1024;

    private readonly ShardGrains _grains;
    private readonly EdgeClock _clock;
    private readonly BackendFailures _unavailable;
    private readonly DenyCache _denials;
    private readonly ExactLane[] _lanes;
    private readonly ExactCallLimits _limits;
    private readonly ExactCallSlots _slots;
    private long _calls;
    private long _asked;

    /// <summary>
    /// Makes the limiter; <paramref name="busyLanes"/> shards with calls in flight make the edge busy
    /// (<see cref="ExactCallLimits.BusyLanes"/>); at most <paramref name="maxCalls"/> calls to answering shards are in
    /// flight at once (<see cref="ExactCallSlots"/>).
    /// </summary>
    public ExactModeLimiter(IGrainFactory grains, EdgeClock clock, BackendFailures unavailable, int busyLanes = ExactCallLimits.BusyLanes, int maxCalls = ExactCallSlots.MaxCallsInFlight)
    {
        _grains = new ShardGrains(grains);
        _clock = clock;
        _unavailable = unavailable;
        _denials = new DenyCache(clock);
        _limits = new ExactCallLimits(clock, busyLanes);
        _slots = new ExactCallSlots(maxCalls, (lane, slot) => _ = PumpAsync(lane, slot));
        _lanes = new ExactLane[RateLimitKeys.ShardCount];
        for (var shard = 0; shard < _lanes.Length; shard++)
        {
            _lanes[shard] = new ExactLane(shard);
        }
    }

    /// <summary>Buckets this edge currently answers 429 for without asking.</summary>
    public int CachedDenials => _denials.Count;

    /// <summary>Grain calls made, and the requests they carried (their ratio is the mean batch).</summary>
    public (long Calls, long Requests) Batching => (Interlocked.Read(ref _calls), Interlocked.Read(ref _asked));

    /// <summary>Shards with a call in flight.</summary>
    public int Lanes => _lanes.Count(lane => Volatile.Read(ref lane.Busy));

    public async ValueTask<RateLimitDecision> AcquireAsync(string bucket, RateLimitRate rate, TimeSpan budget, CancellationToken cancellationToken)
    {
        var started = _clock.NowTicks;
        if (_denials.IsDenied(bucket, started, out var retryAfter))
        {
            return new RateLimitDecision(false, 0, retryAfter, false);
        }

        // No call in flight for this shard and nothing owed to it: ask at once, alone. Otherwise wait for the next
        // batched call (which carries the debts first).
        var lane = _lanes[RateLimitKeys.Shard(bucket)];
        ExactWaiter? waiter = null;
        var pump = false;
        lock (lane.Gate)
        {
            if (lane.Busy || lane.Debts is not null)
            {
                waiter = new ExactWaiter(bucket, rate, budget);
                lane.Pending.Add(waiter);
                pump = !lane.Busy;
            }

            lane.Busy = true;
        }

        if (pump)
        {
            _slots.WaitFor(lane);
        }
        else if (waiter is null)
        {
            var slot = _slots.TryTake(lane);
            if (slot is not null)
            {
                return await AskAloneAsync(lane, slot, bucket, rate, budget, cancellationToken);
            }

            // Every slot is taken: this request waits in its lane, whose call goes when a slot frees.
            waiter = new ExactWaiter(bucket, rate, budget);
            lock (lane.Gate)
            {
                lane.Pending.Add(waiter);
            }

            _slots.WaitFor(lane);
        }

        return await AwaitTurnAsync(waiter!, started, cancellationToken);
    }

    /// <summary>
    /// Owes <paramref name="bucket"/>'s shard <paramref name="spent"/> requests a local bucket just admitted, without
    /// sending anything: the lane's next call (the next decision of any key of that shard) charges them first.
    /// </summary>
    public void Owe(string bucket, RateLimitRate rate, long spent)
    {
        var lane = _lanes[RateLimitKeys.Shard(bucket)];
        lock (lane.Gate)
        {
            lane.AddDebt(bucket, rate, spent);
        }
    }

    /// <summary>
    /// Owes <paramref name="bucket"/>'s shard <paramref name="spent"/> requests this edge admitted on its local bucket:
    /// the lane's next call charges them before any later request of this edge is judged (sent at once when the lane is
    /// idle). A charge made apart from the lane could reach the shard after the next decision, which then spent tokens
    /// the local bucket had already spent.
    /// </summary>
    public void Charge(string bucket, RateLimitRate rate, long spent)
    {
        var lane = _lanes[RateLimitKeys.Shard(bucket)];
        bool pump;
        lock (lane.Gate)
        {
            lane.AddDebt(bucket, rate, spent);
            pump = !lane.Busy;
            lane.Busy = true;
        }

        if (pump)
        {
            _slots.WaitFor(lane);
        }
    }

    /// <summary>The uncontended path: one call for one request, awaited directly; whoever queued meanwhile goes next.</summary>
    private async ValueTask<RateLimitDecision> AskAloneAsync(ExactLane lane, CallSlot slot, string bucket, RateLimitRate rate, TimeSpan budget, CancellationToken cancellationToken)
    {
        var sentAt = _clock.NowTicks;
        Counted(1);
        RateLimitGrant grant;
        Task<RateLimitGrant>? call = null;
        try
        {
            call = _grains[lane.Shard].AcquireAsync(bucket, rate).AsTask();
            grant = await AwaitCallAsync(call, lane, slot, budget, sentAt, cancellationToken);
            _limits.Answered(lane, sentAt);
        }
        catch (Exception ex) when (BackendFailures.IsUnavailable(ex, cancellationToken))
        {
            _limits.Unanswered(lane, call, sentAt);
            slot.Release();
            HandOver(lane);
            return _unavailable.Report(bucket, ex);
        }
        catch (OperationCanceledException)
        {
            slot.Release();
            HandOver(lane);
            throw;
        }

        slot.Release();

        if (grant.Granted == 0)
        {
            _denials.Deny(bucket, sentAt + grant.WaitTicks);
        }

        HandOver(lane);
        return grant.Granted > 0
            ? new RateLimitDecision(true, grant.Remaining, TimeSpan.FromTicks(grant.WaitTicks), false)
            : new RateLimitDecision(false, 0, TimeSpan.FromTicks(grant.WaitTicks), false);
    }

    /// <summary>
    /// A queued request: waits for its batched call, which has the budget from when it is sent, and in all no longer than
    /// <see cref="ExactCallLimits.MaxWaitBudgets"/> budgets from its arrival.
    /// </summary>
    private async ValueTask<RateLimitDecision> AwaitTurnAsync(ExactWaiter waiter, long started, CancellationToken cancellationToken)
    {
        try
        {
            var left = (waiter.Budget * ExactCallLimits.MaxWaitBudgets) - TimeSpan.FromTicks(_clock.NowTicks - started);
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException("The rate-limit decision budget ran out.");
            }

            return await waiter.Task.WaitAsync(left, _clock.Time, cancellationToken);
        }
        catch (Exception ex) when (Abandon(waiter) && BackendFailures.IsUnavailable(ex, cancellationToken))
        {
            return _unavailable.Report(waiter.Bucket, ex);
        }
    }

    /// <summary>
    /// Awaits <paramref name="call"/> within its limit (<see cref="ExactCallLimits.Limit"/>), counted from
    /// <paramref name="sentAt"/>; when it runs out, the limit is asked again, so a call sent while the edge was quiet
    /// gets the longer one if a burst has made the edge busy since. A call that takes longer than one budget frees its
    /// <paramref name="slot"/> then (it keeps waiting for its answer).
    /// </summary>
    private async Task<T> AwaitCallAsync<T>(Task<T> call, ExactLane lane, CallSlot slot, TimeSpan budget, long sentAt, CancellationToken cancellationToken)
    {
        var limit = _limits.Limit(lane, budget, Lanes);
        if (limit > budget && slot != CallSlot.Uncounted)
        {
            var first = budget - TimeSpan.FromTicks(_clock.NowTicks - sentAt);
            try
            {
                return await call.WaitAsync(first > TimeSpan.Zero ? first : TimeSpan.Zero, _clock.Time, cancellationToken);
            }
            catch (TimeoutException)
            {
                slot.Release();
            }
        }

        while (true)
        {
            var left = limit - TimeSpan.FromTicks(_clock.NowTicks - sentAt);
            try
            {
                return await call.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, _clock.Time, cancellationToken);
            }
            catch (TimeoutException)
            {
                var longer = _limits.Limit(lane, budget, Lanes);
                if (longer <= limit)
                {
                    throw;
                }

                limit = longer;
            }
        }
    }

    private void Counted(long requests)
    {
        Interlocked.Increment(ref _calls);
        Interlocked.Add(ref _asked, requests);
    }

    /// <summary>Stops <paramref name="waiter"/> from being counted by a later call; always true (used in a filter).</summary>
    private static bool Abandon(ExactWaiter waiter)
    {
        waiter.TrySetCanceled();
        return true;
    }
}
