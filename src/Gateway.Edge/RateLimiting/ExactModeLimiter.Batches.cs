using Gateway.Grains.Contracts;

namespace Gateway.Edge.RateLimiting;

/// <summary>The batched calls of <see cref="ExactModeLimiter"/>: a lane's queued requests and debts, one call at a time.</summary>
internal sealed partial class ExactModeLimiter
{
    /// <summary>The call in flight is done: hands the lane to the queued requests and debts, or frees it when there are none.</summary>
    private void HandOver(ExactLane lane)
    {
        lock (lane.Gate)
        {
            if (lane.Pending.Count == 0 && lane.Debts is null)
            {
                lane.Busy = false;
                return;
            }
        }

        _slots.WaitFor(lane);
    }

    /// <summary>
    /// Asks for the queued requests, one call at a time, until none wait; each call carries every waiting request (at
    /// most <see cref="MaxBatch"/>). The first call has <paramref name="slot"/>; each later one takes a slot, or leaves
    /// the lane waiting for one (<see cref="ExactCallSlots.WaitFor"/>) with its requests queued.
    /// </summary>
    private async Task PumpAsync(ExactLane lane, CallSlot slot)
    {
        var batch = new List<ExactWaiter>();
        var failed = false;
        for (var first = true; ; first = false)
        {
            var next = first ? slot : _slots.TryTake(lane);
            if (next is null)
            {
                _slots.WaitFor(lane);
                return;
            }

            batch.Clear();
            Dictionary<string, LaneDebt>? debts;
            lock (lane.Gate)
            {
                var pending = lane.Pending;
                var taken = 0;
                for (; taken < pending.Count && batch.Count < MaxBatch; taken++)
                {
                    if (!pending[taken].Task.IsCompleted)
                    {
                        batch.Add(pending[taken]);
                    }
                }

                pending.RemoveRange(0, taken);
                debts = lane.TakeDebts();
                if (batch.Count == 0 && pending.Count == 0 && (debts is null || failed))
                {
                    // After a failed call, debts alone do not make another: they wait for the shard's next request
                    // (a silo that is gone fails calls at once, and retrying them would spin through the outage).
                    lane.Debts = debts;
                    lane.Busy = false;
                    next.Release();
                    return;
                }
            }

            var sentAt = _clock.NowTicks;
            var asks = ExactBatch.Group(batch, _denials, sentAt);
            if (debts is not null)
            {
                ExactBatch.AddDebts(asks, debts);
            }

            if (asks.Count == 0)
            {
                next.Release();
                continue;
            }

            Counted(asks.Sum(ask => ask.Waiters.Count));
            Task? call = null;
            try
            {
                var grain = _grains[lane.Shard];
                var budget = batch.Count == 0 ? GrainRateLimiter.DecisionBudget : batch.Max(waiter => waiter.Budget);
                if (asks.Count == 1 && asks[0].Waiters.Count == 1 && asks[0].Debt == 0)
                {
                    var ask = asks[0];
                    call = grain.AcquireAsync(ask.Bucket, ask.Rate).AsTask();
                    var grant = await AwaitCallAsync((Task<RateLimitGrant>)call, lane, next, budget, sentAt, CancellationToken.None);
                    ExactBatch.Complete(ask, _denials, sentAt, grant);
                }
                else
                {
                    call = grain.AcquireBatchAsync(ExactBatch.Message(asks)).AsTask();
                    var grants = await AwaitCallAsync((Task<RateLimitGrants>)call, lane, next, budget, sentAt, CancellationToken.None);
                    for (var i = 0; i < asks.Count; i++)
                    {
                        ExactBatch.Complete(asks[i], _denials, sentAt, grants.Items[i]);
                    }
                }

                _limits.Answered(lane, sentAt);
                failed = false;
            }
            catch (Exception ex)
            {
                failed = true;
                _limits.Unanswered(lane, call, sentAt);
                foreach (var waiter in batch)
                {
                    waiter.TrySetException(ex);
                }

                if (debts is not null)
                {
                    OweAgainUnlessAnswered(lane, debts, call);
                }
            }
            finally
            {
                next.Release();
            }
        }
    }

    /// <summary>
    /// A call carrying <paramref name="debts"/> did not answer: they are owed again once it is known not to have reached
    /// the shard (failed now, or later); a late answer means they were charged. The next call of the lane carries them.
    /// </summary>
    private static void OweAgainUnlessAnswered(ExactLane lane, Dictionary<string, LaneDebt> debts, Task? call)
    {
        if (call is { IsCompleted: false })
        {
            _ = call.ContinueWith(
                answered =>
                {
                    if (!answered.IsCompletedSuccessfully)
                    {
                        OweAgainUnlessAnswered(lane, debts, null);
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            return;
        }

        lock (lane.Gate)
        {
            foreach (var (bucket, debt) in debts)
            {
                lane.AddDebt(bucket, debt.Rate, debt.Count);
            }
        }
    }
}
