namespace Gateway.Edge.RateLimiting;

/// <summary>
/// How long an exact-mode call may take before its requests fall back to <c>on_backend_failure</c>. One budget (the
/// contract's 50 ms) on a quiet edge. On a busy one (<see cref="BusyLanes"/> shards with calls in flight, as in a burst,
/// when the edge's own timers and continuations run late) a shard that is answering (its last call answered, if late, or
/// none was made yet) gets <see cref="AnsweringCallBudgets"/> budgets, or four times the recent answer time of this
/// edge's calls up to <see cref="MaxCallBudgets"/>, so a busy edge or silo is not taken for a silent one. A shard whose
/// call failed, or whose last <see cref="MissesBeforeSilent"/> calls went unanswered, gets one budget until some call
/// answers.
/// </summary>
internal sealed class ExactCallLimits(EdgeClock clock, int busyLanes = ExactCallLimits.BusyLanes)
{
    /// <summary>How long a call to a shard that is answering may take at least, in budgets (1 s for the 50 ms budget).</summary>
    internal const int AnsweringCallBudgets = 20;

    /// <summary>How long a call to a shard that is answering may take at most, in budgets (3 s for the 50 ms budget).</summary>
    internal const int MaxCallBudgets = 60;

    /// <summary>Shards with calls in flight from which this edge counts as busy.</summary>
    internal const int BusyLanes = 3;

    /// <summary>Calls in a row that a shard leaves unanswered (timed out, not failed) before it counts as silent.</summary>
    internal const int MissesBeforeSilent = 2;

    /// <summary>The longest a queued request waits in all, in budgets: the call in flight ahead of it and its own.</summary>
    internal const int MaxWaitBudgets = 2 * MaxCallBudgets;

    /// <summary>Recent time from sending a call to its answer (late ones included), a moving average in ticks.</summary>
    private long _answerTicks;

    /// <summary>
    /// How long a call of <paramref name="lane"/> may take, with <paramref name="inFlight"/> shards' calls in flight: on a
    /// busy edge while its shard answers, <see cref="AnsweringCallBudgets"/> budgets or four times the recent answer time,
    /// at most <see cref="MaxCallBudgets"/>; else one budget.
    /// </summary>
    public TimeSpan Limit(ExactLane lane, TimeSpan budget, int inFlight)
    {
        if (inFlight < busyLanes || !Volatile.Read(ref lane.Answering))
        {
            return budget;
        }

        var recent = TimeSpan.FromTicks(4 * Volatile.Read(ref _answerTicks));
        return recent < budget * AnsweringCallBudgets ? budget * AnsweringCallBudgets
            : recent > budget * MaxCallBudgets ? budget * MaxCallBudgets
            : recent;
    }

    /// <summary>A call of <paramref name="lane"/> sent at <paramref name="sentAt"/> answered: the shard answers; the answer time joins the average.</summary>
    public void Answered(ExactLane lane, long sentAt)
    {
        var took = Math.Max(0, clock.NowTicks - sentAt);
        var average = Volatile.Read(ref _answerTicks);
        Volatile.Write(ref _answerTicks, average + ((took - average) / 4));
        Volatile.Write(ref lane.Misses, 0);
        Volatile.Write(ref lane.Answering, true);
    }

    /// <summary>
    /// <paramref name="call"/> failed, or is the <see cref="MissesBeforeSilent"/>th in a row not to answer in time: the
    /// shard counts as silent until some call answers, this one included, should its answer still come.
    /// </summary>
    public void Unanswered(ExactLane lane, Task? call, long sentAt)
    {
        var timedOut = call is { IsCompleted: false };
        if (!timedOut || Interlocked.Increment(ref lane.Misses) >= MissesBeforeSilent)
        {
            Volatile.Write(ref lane.Answering, false);
        }

        if (timedOut)
        {
            _ = call!.ContinueWith(
                answered =>
                {
                    if (answered.IsCompletedSuccessfully)
                    {
                        Answered(lane, sentAt);
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }
}
