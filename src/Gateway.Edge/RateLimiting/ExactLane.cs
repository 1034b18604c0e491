using Gateway.Grains.Contracts;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// One bucket's exact-mode questions on this edge while one is in flight (at most one call per bucket per edge). Requests
/// that arrive meanwhile wait in <see cref="Pending"/> and go together in the next call. A lane lives only while a call is
/// in flight: the last one out retires it (<see cref="Retired"/>) and takes it out of the map. Guarded by <see cref="Gate"/>.
/// </summary>
internal sealed class ExactLane
{
    public Lock Gate { get; } = new();

    /// <summary>Requests waiting for the next call, oldest first.</summary>
    public List<ExactWaiter> Pending { get; } = [];

    /// <summary>A call is in flight (or about to be sent) for this bucket.</summary>
    public bool Busy;

    /// <summary>Out of the map; a request that finds it here takes a fresh lane.</summary>
    public bool Retired;
}

/// <summary>
/// One request waiting in an <see cref="ExactLane"/>. It completes with its decision, or with the exception that kept the
/// call from answering; the request cancels it when it stops waiting (budget spent or aborted), so no call counts it.
/// </summary>
internal sealed class ExactWaiter(RateLimitRate rate, TimeSpan budget) : TaskCompletionSource<RateLimitDecision>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public RateLimitRate Rate { get; } = rate;

    /// <summary>How long this request may wait for the grain in all.</summary>
    public TimeSpan Budget { get; } = budget;
}
