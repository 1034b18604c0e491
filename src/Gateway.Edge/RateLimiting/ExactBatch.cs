using Gateway.Grains.Contracts;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// One batched exact-mode call: the waiting requests of one shard grouped by bucket (and rate), each group one ask of as
/// many tokens as it has requests, and the answer filed back to the requests.
/// </summary>
internal static class ExactBatch
{
    /// <summary>
    /// Groups <paramref name="batch"/> by bucket and rate, oldest first; requests whose bucket the deny cache already
    /// answers are denied here and not asked for.
    /// </summary>
    public static List<BucketAsk> Group(List<ExactWaiter> batch, DenyCache denials, long now)
    {
        var asks = new List<BucketAsk>(batch.Count);
        var index = new Dictionary<string, int>(batch.Count, StringComparer.Ordinal);
        foreach (var waiter in batch)
        {
            if (denials.IsDenied(waiter.Bucket, now, out var retryAfter))
            {
                waiter.TrySetResult(new RateLimitDecision(false, 0, retryAfter, false));
                continue;
            }

            if (index.TryGetValue(waiter.Bucket, out var i) && asks[i].Rate.Equals(waiter.Rate))
            {
                asks[i].Waiters.Add(waiter);
                continue;
            }

            index[waiter.Bucket] = asks.Count;
            asks.Add(new BucketAsk(waiter.Bucket, waiter.Rate, [waiter]));
        }

        return asks;
    }

    /// <summary>Puts each debt on its bucket's ask (charged before that bucket's requests), or on an ask of its own.</summary>
    public static void AddDebts(List<BucketAsk> asks, Dictionary<string, LaneDebt> debts)
    {
        foreach (var (bucket, debt) in debts)
        {
            var i = asks.FindIndex(ask => ask.Bucket == bucket && ask.Rate.Equals(debt.Rate));
            if (i >= 0)
            {
                asks[i].Debt = debt.Count;
            }
            else
            {
                asks.Add(new BucketAsk(bucket, debt.Rate, []) { Debt = debt.Count });
            }
        }
    }

    public static RateLimitAsks Message(List<BucketAsk> asks)
    {
        var items = new RateLimitAsk[asks.Count];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = new RateLimitAsk(asks[i].Bucket, asks[i].Rate, asks[i].Waiters.Count, asks[i].Debt);
        }

        return new RateLimitAsks(items);
    }

    /// <summary>
    /// Files one bucket's answer: the first <see cref="RateLimitGrant.Granted"/> requests in the order asked are admitted
    /// (each seeing what its own sequential call would have), the rest denied. A token granted to a request that stopped
    /// waiting meanwhile stays with it and is not passed on: that request was decided by <c>on_backend_failure</c>,
    /// perhaps admitted by this edge's local bucket, and the two must not count as two admissions for one token.
    /// </summary>
    public static void Complete(BucketAsk ask, DenyCache denials, long sentAt, RateLimitGrant grant)
    {
        if (grant.Granted < ask.Waiters.Count)
        {
            denials.Deny(ask.Bucket, sentAt + grant.WaitTicks);
        }

        var denied = new RateLimitDecision(false, 0, TimeSpan.FromTicks(grant.WaitTicks), false);
        var left = grant.Granted;
        foreach (var waiter in ask.Waiters)
        {
            if (left == 0)
            {
                waiter.TrySetResult(denied);
                continue;
            }

            var remaining = grant.Remaining + left - 1;
            var wait = remaining > 0 ? 0 : grant.WaitTicks;
            waiter.TrySetResult(new RateLimitDecision(true, remaining, TimeSpan.FromTicks(wait), false));
            left--;
        }
    }
}

/// <summary>The requests of one bucket (at one rate) in a batch, and the bucket's debt charged before them.</summary>
internal sealed record BucketAsk(string Bucket, RateLimitRate Rate, List<ExactWaiter> Waiters)
{
    /// <summary>Requests this edge admitted locally for the bucket (<see cref="ExactLane.Debts"/>).</summary>
    public long Debt { get; set; }
}
