using Gateway.Grains.Contracts;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Observability;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// The edge's limiter over the bucket grains: asks the limiter of the configured <c>ratelimit.mode</c>
/// (<see cref="ExactModeLimiter"/> or <see cref="FastModeLimiter"/>) and, when the grains do not answer within
/// <see cref="DecisionBudget"/>, decides by <c>on_backend_failure</c> (or the mode the caller forces): on this edge's
/// <see cref="LocalBuckets"/> (<c>local</c>), admitting (<c>open</c>) or refusing (<c>closed</c>).
/// </summary>
internal sealed class GrainRateLimiter : IRateLimiter
{
    /// <summary>The contract's 50 ms: how long a call to a shard that left its last call unanswered may take (see <see cref="ExactModeLimiter"/>).</summary>
    public static readonly TimeSpan DecisionBudget = TimeSpan.FromMilliseconds(50);

    /// <summary>How long after a local decision the grains' decisions also seed local buckets for keys without one.</summary>
    internal static readonly TimeSpan TrackAfterLocal = TimeSpan.FromSeconds(30);

    private readonly IGrainFactory _grains;
    private readonly GatewayConfigStore _config;
    private readonly GatewayMetrics _metrics;
    private readonly EdgeClock _clock;
    private readonly ExactModeLimiter _exact;
    private readonly FastModeLimiter _fast;
    private readonly LocalBuckets _local;
    private readonly BackendFailures _failures;
    private long _lastLocal = long.MinValue / 2;

    public GrainRateLimiter(IGrainFactory grains, GatewayConfigStore config, GatewayMetrics metrics, TimeProvider time, EdgeShare share, ILogger<GrainRateLimiter> logger)
    {
        _grains = grains;
        _config = config;
        _metrics = metrics;
        _clock = new EdgeClock(time);
        _failures = new BackendFailures(logger);
        _exact = new ExactModeLimiter(grains, _clock, _failures);
        _fast = new FastModeLimiter(grains, _clock, _failures);
        _local = new LocalBuckets(_clock, share);
        metrics.ObserveRateLimitEntries(() => _exact.CachedDenials, () => _exact.Lanes, () => _fast.Slots);
    }

    /// <summary>Buckets this edge currently answers 429 for without asking (exact mode).</summary>
    internal int CachedDenials => _exact.CachedDenials;

    /// <summary>Shards with an exact-mode call in flight on this edge.</summary>
    internal int ExactLanes => _exact.Lanes;

    /// <summary>Exact-mode grain calls and the requests they carried.</summary>
    internal (long Calls, long Requests) ExactBatching => _exact.Batching;

    /// <summary>Buckets this edge holds lease state for (fast mode).</summary>
    internal int LeaseSlots => _fast.Slots;

    /// <summary>Buckets this edge decides on locally while the grains do not answer (<c>on_backend_failure: local</c>).</summary>
    internal int LocalBucketCount => _local.Count;

    private bool LocalRecently => _clock.NowTicks - Volatile.Read(ref _lastLocal) < TrackAfterLocal.Ticks;

    public static RateLimitRate RateOf(RateLimitPolicy policy) => new(policy.Requests, policy.Period.Ticks, policy.Burst);

    public ValueTask<RateLimitDecision> AcquireAsync(string policyName, RateLimitPolicy policy, string clientKey, CancellationToken cancellationToken) =>
        AcquireAsync(policyName, policy, clientKey, _config.Current.RateLimit.OnBackendFailure, DecisionBudget, cancellationToken);

    public ValueTask<RateLimitDecision> AcquireAsync(string policyName, RateLimitPolicy policy, string clientKey, BackendFailureMode onBackendFailure, TimeSpan budget, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var rate = RateOf(policy);
        var fast = _config.Current.RateLimit.Mode == RateLimitMode.Fast;
        var decision = fast
            ? _fast.AcquireAsync(policyName, clientKey, rate, budget, cancellationToken)
            : _exact.AcquireAsync(RateLimitKeys.Bucket(policyName, clientKey), rate, budget, cancellationToken);
        var request = new PendingDecision(policyName, policy, clientKey, onBackendFailure, fast);
        return decision.IsCompletedSuccessfully
            ? ValueTask.FromResult(Decide(decision.Result, request))
            : DecideAsync(decision, request);
    }

    /// <summary>The grain's view of one bucket (admin), within a second; null when the grains do not answer.</summary>
    public async Task<RateLimitGrant?> PeekAsync(string policyName, RateLimitPolicy policy, string clientKey, CancellationToken cancellationToken)
    {
        try
        {
            var bucket = RateLimitKeys.Bucket(policyName, clientKey);
            return await _grains.GetGrain<IRateLimitShardGrain>(RateLimitKeys.Shard(bucket))
                .PeekAsync(bucket, RateOf(policy)).AsTask().WaitAsync(TimeSpan.FromSeconds(1), _clock.Time, cancellationToken);
        }
        catch (Exception ex) when (BackendFailures.IsUnavailable(ex, cancellationToken))
        {
            return null;
        }
    }

    private async ValueTask<RateLimitDecision> DecideAsync(ValueTask<RateLimitDecision> decision, PendingDecision request) =>
        Decide(await decision, request);

    /// <summary>
    /// A decision the grains did not make is made here, by the failure mode, and counted. A local bucket's decision is a
    /// decision (a denial is a 429 with its <c>RateLimit</c> headers), so it is not marked as unavailable. A decision the
    /// grains did make reconciles the key's local bucket, if it has one; within <see cref="TrackAfterLocal"/> of a local
    /// decision it also gives a key without one a local bucket at this edge's share of what the grain says is left, so a
    /// key the grains have mostly spent is not handed a whole share by a later local decision on this edge.
    /// </summary>
    private RateLimitDecision Decide(RateLimitDecision decision, PendingDecision request)
    {
        if (!decision.BackendUnavailable)
        {
            if (_local.Count > 0 || LocalRecently)
            {
                Reconcile(request, decision);
            }

            return decision;
        }

        if (request.OnBackendFailure == BackendFailureMode.Local)
        {
            Volatile.Write(ref _lastLocal, _clock.NowTicks);
            var bucket = RateLimitKeys.Bucket(request.PolicyName, request.ClientKey);
            var local = _local.Acquire(bucket, request.Policy);
            _metrics.RateLimitBackendFailed(local.Allowed, local: true);
            OweLocalAdmissions(request, bucket);
            return local;
        }

        var admitted = request.OnBackendFailure == BackendFailureMode.Open;
        _metrics.RateLimitBackendFailed(admitted);
        return decision with { Allowed = admitted };
    }

    /// <summary>
    /// Charges what the local bucket admitted and lowers the local bucket. Fast mode pays it out of this edge's leases
    /// (a lease the grain granted during the outage would otherwise be spent on top); exact mode sends it with the
    /// shard's next call, ahead of any later decision (a charge sent on its own could arrive after one).
    /// </summary>
    private void Reconcile(PendingDecision request, RateLimitDecision decision)
    {
        var bucket = RateLimitKeys.Bucket(request.PolicyName, request.ClientKey);
        var spent = _local.Reconcile(bucket, request.Policy, decision.Remaining, create: LocalRecently);
        if (spent > 0 && request.Fast)
        {
            _fast.Charge(request.PolicyName, request.ClientKey, spent);
        }
        else if (spent > 0)
        {
            _exact.Charge(bucket, RateOf(request.Policy), spent);
        }
    }

    /// <summary>
    /// Charges what the local bucket admitted to the grains at once: fast mode pays it out of the leases this edge holds
    /// or receives next, exact mode owes it on the shard's lane. Charged only at the key's next grain answer, a lease
    /// already on its way, or a later decision the grains answered, could admit on top of the local admissions (a loaded
    /// machine missing budgets admitted 4 of 3).
    /// </summary>
    private void OweLocalAdmissions(PendingDecision request, string bucket)
    {
        var spent = _local.TakeUnreported(bucket);
        if (spent <= 0)
        {
            return;
        }

        if (request.Fast)
        {
            _fast.Charge(request.PolicyName, request.ClientKey, spent);
        }
        else
        {
            _exact.Owe(bucket, RateOf(request.Policy), spent);
        }
    }

    /// <summary>What a decision was asked for, kept until the grains' answer (or its absence) is known.</summary>
    private readonly record struct PendingDecision(string PolicyName, RateLimitPolicy Policy, string ClientKey, BackendFailureMode OnBackendFailure, bool Fast);
}

/// <summary>How the mode limiters report a grain that did not answer: a logged, undecided answer.</summary>
internal sealed partial class BackendFailures(ILogger logger)
{
    /// <summary>The answer of a bucket whose grain did not answer in time: not decided; the caller applies the failure mode.</summary>
    public RateLimitDecision Report(string bucket, Exception exception)
    {
        LogUnavailable(logger, bucket, exception);
        return new RateLimitDecision(false, 0, TimeSpan.Zero, true);
    }

    public void LeaseFailed(string bucket, Exception exception) => LogLeaseFailed(logger, bucket, exception);

    /// <summary>True unless the request itself was cancelled (the client went away).</summary>
    public static bool IsUnavailable(Exception exception, CancellationToken cancellationToken) =>
        exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested;

    [LoggerMessage(EventId = LogEvents.RateLimiterUnavailable, Level = LogLevel.Debug, Message = "Rate limiter unavailable for {Bucket}")]
    private static partial void LogUnavailable(ILogger logger, string bucket, Exception exception);

    [LoggerMessage(EventId = LogEvents.RateLimitLeaseFailed, Level = LogLevel.Debug, Message = "Lease request for {Bucket} failed")]
    private static partial void LogLeaseFailed(ILogger logger, string bucket, Exception exception);
}
