namespace Gateway.Grains.Contracts;

/// <summary>
/// A shard of the token buckets (GCRA), one per (policy, client key) named by <see cref="RateLimitKeys.Bucket"/>: the
/// bucket lives in shard <see cref="RateLimitKeys.Shard"/>, and the shard's integer key is that number. Keeping many
/// buckets in one grain makes a new client a dictionary entry instead of an activation, and lets an edge send the
/// questions of many clients in one call. Every call carries the policy's rate, so a changed <c>gateway.yml</c> applies
/// to live buckets at once.
/// </summary>
[Alias("gateway.ratelimit.shard")]
public interface IRateLimitShardGrain : IGrainWithIntegerKey
{
    /// <summary>Exact mode: takes one token of <paramref name="bucket"/> if one conforms now.</summary>
    [Alias("acquire")]
    [ResponseTimeout("00:00:01")]
    ValueTask<RateLimitGrant> AcquireAsync(string bucket, RateLimitRate rate);

    /// <summary>
    /// Exact mode, batched: the asks are judged in order at one instant. Each ask's grant is what <see cref="RateLimitAsk.Count"/>
    /// sequential <see cref="AcquireAsync"/> calls would have got, after its <see cref="RateLimitAsk.Debt"/> was charged:
    /// <see cref="RateLimitGrant.Granted"/> of them admitted, the rest of the grant as the last of them would have seen it.
    /// </summary>
    [Alias("acquire-batch")]
    [ResponseTimeout("00:00:01")]
    ValueTask<RateLimitGrants> AcquireBatchAsync(RateLimitAsks asks);

    /// <summary>
    /// Fast mode: gives back <paramref name="returning"/> unused tokens of an earlier lease, then takes up to
    /// <paramref name="want"/> tokens (never more than the policy refills in <see cref="RateLimitRate.MaxLeaseTicks"/>).
    /// </summary>
    [Alias("lease")]
    [ResponseTimeout("00:00:01")]
    ValueTask<RateLimitGrant> LeaseAsync(string bucket, RateLimitRate rate, long want, long returning);

    /// <summary>The bucket's state without taking anything (admin view).</summary>
    [Alias("peek")]
    [ResponseTimeout("00:00:01")]
    ValueTask<RateLimitGrant> PeekAsync(string bucket, RateLimitRate rate);

    /// <summary>Activates the shard (its checkpoint read) and the code of its decisions, so no client's first decision pays for them.</summary>
    [Alias("warm-up")]
    [ResponseTimeout("00:00:10")]
    ValueTask WarmUpAsync();
}

/// <summary>
/// One bucket's questions in a batch: <paramref name="Count"/> exact-mode requests at <paramref name="Rate"/>, after
/// <paramref name="Debt"/> requests the edge admitted on its own (its local bucket, while this shard did not answer) are
/// charged: taken first, up to what the bucket holds, and not part of the grant.
/// </summary>
[GenerateSerializer, Immutable, Alias("gateway.ratelimit.ask")]
public sealed record RateLimitAsk(
    [property: Id(0)] string Bucket,
    [property: Id(1)] RateLimitRate Rate,
    [property: Id(2)] long Count,
    [property: Id(3)] long Debt = 0);

/// <summary>A batch of asks for buckets of one shard (never changed once sent: passed without a copy in process).</summary>
[GenerateSerializer, Immutable, Alias("gateway.ratelimit.asks")]
public sealed record RateLimitAsks([property: Id(0)] RateLimitAsk[] Items);

/// <summary>The grants of a batch, in the order of its asks.</summary>
[GenerateSerializer, Immutable, Alias("gateway.ratelimit.grants")]
public sealed record RateLimitGrants([property: Id(0)] RateLimitGrant[] Items);

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

/// <summary>How buckets are named and which shard holds each.</summary>
public static class RateLimitKeys
{
    /// <summary>
    /// Shards in the cluster. Part of where a bucket lives (with its checkpoint): changing it moves buckets to other
    /// shards, which do not know them, so it must stay the same for every silo and edge of a cluster and across upgrades.
    /// </summary>
    public const int ShardCount = 16;

    /// <summary>The name of the bucket of <paramref name="clientKey"/> under <paramref name="policyName"/>.</summary>
    public static string Bucket(string policyName, string clientKey) => string.Concat(policyName, "|", clientKey);

    /// <summary>The shard that holds <paramref name="bucket"/>: a hash that every process computes alike (FNV-1a over the UTF-16 code units).</summary>
    public static int Shard(string bucket)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        var hash = 2166136261u;
        foreach (var c in bucket)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % ShardCount);
    }
}
