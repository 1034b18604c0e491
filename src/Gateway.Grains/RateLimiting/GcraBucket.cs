using Gateway.Grains.Contracts;

namespace Gateway.Grains.RateLimiting;

/// <summary>
/// The generic cell rate algorithm over integer 100 ns ticks. The whole state is the theoretical arrival time
/// (<see cref="TheoreticalArrival"/>): the bucket is full when it is at or before now, and each token taken moves it one
/// emission interval forward. A request conforms while the result stays within <c>burst</c> intervals of now, so in any
/// interval of length t at most <c>burst + t / emission</c> tokens are taken.
/// </summary>
public sealed class GcraBucket
{
    public GcraBucket(long theoreticalArrival = 0) => TheoreticalArrival = theoreticalArrival;

    /// <summary>The theoretical arrival time in UTC ticks.</summary>
    public long TheoreticalArrival { get; private set; }

    /// <summary>Takes <paramref name="count"/> tokens if all of them conform now; otherwise takes none.</summary>
    public bool TryTake(RateLimitRate rate, long now, long count = 1) => TakeUpTo(rate, now, count, allOrNothing: true) == count;

    /// <summary>Takes as many tokens as conform now, at most <paramref name="max"/>, and returns how many it took.</summary>
    /// <remarks>
    /// Also what <paramref name="max"/> single requests judged in order at <paramref name="now"/> would get: each conforming
    /// take removes one whole token, and once one is denied every later one at the same instant is too (a coalesced batch
    /// of exact-mode requests is judged this way; the tests hold it to the sequential loop).
    /// </remarks>
    public long TakeUpTo(RateLimitRate rate, long now, long max) => TakeUpTo(rate, now, max, allOrNothing: false);

    /// <summary>Gives back <paramref name="count"/> tokens that were taken and not used; the bucket never fills beyond full.</summary>
    public void Return(RateLimitRate rate, long now, long count)
    {
        if (count <= 0 || TheoreticalArrival <= now)
        {
            return;
        }

        TheoreticalArrival = Math.Max(now, TheoreticalArrival - (count * rate.EmissionTicks));
    }

    /// <summary>
    /// Folds in the state of another copy of this bucket (a second activation's checkpoint): the later theoretical
    /// arrival wins, so what either copy handed out stays taken.
    /// </summary>
    public void Merge(long otherTheoreticalArrival) => TheoreticalArrival = Math.Max(TheoreticalArrival, otherTheoreticalArrival);

    /// <summary>Whole tokens that conform now.</summary>
    public long Available(RateLimitRate rate, long now)
    {
        var emission = rate.EmissionTicks;
        var debt = Math.Max(0, TheoreticalArrival - now);
        return Math.Max(0, ((rate.Burst * emission) - debt) / emission);
    }

    /// <summary>Ticks until one more token conforms; zero when one does now.</summary>
    public long WaitTicks(RateLimitRate rate, long now) =>
        Math.Max(0, TheoreticalArrival - now - ((rate.Burst - 1) * rate.EmissionTicks));

    /// <summary>True when the bucket holds <c>burst</c> tokens: nothing is worth remembering.</summary>
    public bool IsFull(long now) => TheoreticalArrival <= now;

    public RateLimitGrant Grant(RateLimitRate rate, long now, long granted) =>
        new(granted, Available(rate, now), WaitTicks(rate, now));

    private long TakeUpTo(RateLimitRate rate, long now, long max, bool allOrNothing)
    {
        var available = Available(rate, now);
        var take = Math.Min(available, Math.Max(0, max));
        if (take <= 0 || (allOrNothing && take < max))
        {
            return 0;
        }

        TheoreticalArrival = Math.Max(TheoreticalArrival, now) + (take * rate.EmissionTicks);
        return take;
    }
}
