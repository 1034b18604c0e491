namespace Gateway.Grains.Contracts;

/// <summary>
/// One token bucket (GCRA) for one (policy, client key): the grain's key is <see cref="RateLimitKeys.Bucket"/>.
/// Every call carries the policy's rate, so a changed <c>gateway.yml</c> applies to live buckets at once.
/// </summary>
[Alias("gateway.ratelimit")]
public interface IRateLimitGrain : IGrainWithStringKey
{
    /// <summary>Exact mode: takes one token if one conforms now.</summary>
    [Alias("acquire")]
    [ResponseTimeout("00:00:01")]
    ValueTask<RateLimitGrant> AcquireAsync(RateLimitRate rate);

    /// <summary>
    /// Exact mode, coalesced: <paramref name="count"/> requests at once. Each is judged in order at the same instant, so
    /// <see cref="RateLimitGrant.Granted"/> is how many of <paramref name="count"/> sequential <see cref="AcquireAsync"/>
    /// calls would have been admitted, and the rest of the grant is what the last of them would have seen.
    /// </summary>
    [Alias("acquire-many")]
    [ResponseTimeout("00:00:01")]
    ValueTask<RateLimitGrant> AcquireManyAsync(RateLimitRate rate, long count);

    /// <summary>
    /// Fast mode: gives back <paramref name="returning"/> unused tokens of an earlier lease, then takes up to
    /// <paramref name="want"/> tokens (never more than the policy refills in <see cref="RateLimitRate.MaxLeaseTicks"/>).
    /// </summary>
    [Alias("lease")]
    [ResponseTimeout("00:00:01")]
    ValueTask<RateLimitGrant> LeaseAsync(RateLimitRate rate, long want, long returning);

    /// <summary>The bucket's state without taking anything (admin view).</summary>
    [Alias("peek")]
    [ResponseTimeout("00:00:01")]
    ValueTask<RateLimitGrant> PeekAsync(RateLimitRate rate);
}

/// <summary>A policy as the grain needs it: <paramref name="Requests"/> per <paramref name="PeriodTicks"/> (100 ns ticks), bucket size <paramref name="Burst"/>.</summary>
[GenerateSerializer, Immutable, Alias("gateway.ratelimit.rate")]
public sealed record RateLimitRate(
    [property: Id(0)] long Requests,
    [property: Id(1)] long PeriodTicks,
    [property: Id(2)] long Burst)
{
    /// <summary>How long a fast-mode lease may be spent after it was asked for. Together with <see cref="MaxReturnAgeTicks"/> it keeps the fast-mode overshoot under 0.2 s of refill.</summary>
    public static readonly long MaxLeaseTicks = TimeSpan.FromMilliseconds(80).Ticks;

    /// <summary>Unused leased tokens older than this are not given back (see <see cref="MaxLeaseTicks"/>).</summary>
    public static readonly long MaxReturnAgeTicks = TimeSpan.FromMilliseconds(120).Ticks;

    /// <summary>Ticks between two conforming tokens, rounded up (so the bucket never admits more than the policy says).</summary>
    public long EmissionTicks => Math.Max(1, (PeriodTicks + Requests - 1) / Requests);

    /// <summary>The most tokens one lease may carry: what the policy refills in <see cref="MaxLeaseTicks"/>, at least one, at most the burst.</summary>
    public long MaxLease => Math.Clamp(MaxLeaseTicks / EmissionTicks, 1, Burst);
}

/// <summary>
/// What the bucket answered: <paramref name="Granted"/> tokens taken by this call, <paramref name="Remaining"/> whole tokens left,
/// and <paramref name="WaitTicks"/> until the next token conforms (zero when one does).
/// </summary>
[GenerateSerializer, Immutable, Alias("gateway.ratelimit.grant")]
public sealed record RateLimitGrant(
    [property: Id(0)] long Granted,
    [property: Id(1)] long Remaining,
    [property: Id(2)] long WaitTicks);

/// <summary>How bucket grains are named.</summary>
public static class RateLimitKeys
{
    /// <summary>The grain key of the bucket of <paramref name="clientKey"/> under <paramref name="policyName"/>.</summary>
    public static string Bucket(string policyName, string clientKey) => string.Concat(policyName, "|", clientKey);
}
