using Gateway.Grains.Contracts;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// One shard's exact-mode questions on this edge (at most one call per shard per edge in flight). Requests that arrive
/// while one is in flight wait in <see cref="Pending"/>, whatever their bucket, and go together in the next call: one
/// call per round trip for a shard, not one per client. Guarded by <see cref="Gate"/>.
/// </summary>
internal sealed class ExactLane(int shard)
{
    public Lock Gate { get; } = new();

    /// <summary>The shard this lane asks (<see cref="RateLimitKeys.Shard"/>).</summary>
    public int Shard { get; } = shard;

    /// <summary>Requests waiting for the next call, oldest first.</summary>
    public List<ExactWaiter> Pending { get; } = [];

    /// <summary>A call is in flight (or about to be sent) for this shard.</summary>
    public bool Busy;

    /// <summary>The shard's last call answered (or none was made yet): the next call may take longer than one budget.</summary>
    public bool Answering = true;

    /// <summary>Calls in a row that timed out unanswered (<see cref="ExactCallLimits.MissesBeforeSilent"/>).</summary>
    public int Misses;

    /// <summary>
    /// Requests this edge admitted on its local bucket while the shard did not answer, by bucket, not yet charged: the
    /// next call of this lane carries them (<see cref="Gateway.Grains.Contracts.RateLimitAsk.Debt"/>), so the shard
    /// charges them before it judges any later request of this edge. Null when there are none.
    /// </summary>
    public Dictionary<string, LaneDebt>? Debts;

    /// <summary>Adds <paramref name="count"/> requests to <paramref name="bucket"/>'s debt; the caller holds <see cref="Gate"/>.</summary>
    public void AddDebt(string bucket, RateLimitRate rate, long count)
    {
        Debts ??= new Dictionary<string, LaneDebt>(StringComparer.Ordinal);
        Debts[bucket] = new LaneDebt(rate, count + (Debts.TryGetValue(bucket, out var owed) ? owed.Count : 0));
    }

    /// <summary>Takes every debt for the next call (null when there is none); the caller holds <see cref="Gate"/>.</summary>
    public Dictionary<string, LaneDebt>? TakeDebts()
    {
        var debts = Debts;
        Debts = null;
        return debts;
    }
}

/// <summary>What a lane owes one bucket: <paramref name="Count"/> requests admitted locally, at the bucket's <paramref name="Rate"/>.</summary>
internal readonly record struct LaneDebt(RateLimitRate Rate, long Count);

/// <summary>
/// One request waiting in an <see cref="ExactLane"/>. It completes with its decision, or with the exception that kept the
/// call from answering; the request cancels it when it stops waiting (budget spent or aborted), so no call counts it.
/// </summary>
internal sealed class ExactWaiter(string bucket, RateLimitRate rate, TimeSpan budget) : TaskCompletionSource<RateLimitDecision>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public string Bucket { get; } = bucket;

    public RateLimitRate Rate { get; } = rate;

    /// <summary>The decision budget: its call's limit, from when it is sent, is this, or more while the shard answers (<see cref="ExactCallLimits.AnsweringCallBudgets"/>); <see cref="ExactCallLimits.MaxWaitBudgets"/> of it bound the whole wait.</summary>
    public TimeSpan Budget { get; } = budget;
}
