using System.Collections.Concurrent;
using Gateway.Hosting.Configuration;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// <c>on_backend_failure: local</c>: the buckets this edge decides on while the grains do not answer, one per (policy,
/// client key), each holding this edge's share of the policy: <c>requests / live edges</c> per period (the emission
/// interval rounded up) and the burst divided by <see cref="EdgeShare.BurstShare(long, uint)"/>, so that all edges together never hold
/// more than the policy. Bounded: a bucket that has refilled is dropped by the next sweep, and at most
/// <see cref="MaxBuckets"/> exist (a new key beyond that is denied). When the grain answers again for a key,
/// <see cref="Reconcile"/> hands back what the local bucket admitted (to charge to the grain) and brings the bucket down
/// to this edge's share of what the grain says is left, so flapping never hands out a fresh share.
/// </summary>
internal sealed class LocalBuckets(EdgeClock clock, EdgeShare share)
{
    /// <summary>Most buckets held at once (about 200 bytes each).</summary>
    public const int MaxBuckets = 100_000;

    private static readonly long SweepEvery = TimeSpan.FromSeconds(5).Ticks;

    /// <summary>At the cap a new key may sweep sooner, but not more often than this (a sweep reads every bucket).</summary>
    private static readonly long SweepAtCapEvery = TimeSpan.FromMilliseconds(250).Ticks;

    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private int _count;
    private long _lastSweep = long.MinValue / 2;

    /// <summary>Buckets held now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Decides one request of <paramref name="bucketKey"/> on this edge's share of <paramref name="policy"/>.</summary>
    public RateLimitDecision Acquire(string bucketKey, RateLimitPolicy policy)
    {
        var now = clock.NowTicks;
        var bucket = GetOrCreate(bucketKey, now);
        return bucket is null
            ? new RateLimitDecision(false, 0, TimeSpan.FromTicks(SweepEvery), false)
            : bucket.Take(ShapeOf(policy, bucket.KeyHash), now);
    }

    /// <summary>
    /// The grain answered for <paramref name="bucketKey"/>: returns how many requests the local bucket admitted since the
    /// last reconcile (the caller charges them to the grain) and lowers the local bucket to this edge's share of
    /// <paramref name="grainRemaining"/>. When the key has no local bucket: with <paramref name="create"/>, one is made
    /// holding that share (not a whole share: the grain has spent the rest); otherwise nothing is done. Returns zero then.
    /// </summary>
    public long Reconcile(string bucketKey, RateLimitPolicy policy, long grainRemaining, bool create = false)
    {
        Bucket? bucket;
        if (create)
        {
            bucket = GetOrCreate(bucketKey, clock.NowTicks);
            if (bucket is null)
            {
                return 0;
            }
        }
        else if (Count == 0 || !_buckets.TryGetValue(bucketKey, out bucket))
        {
            return 0;
        }

        var shape = ShapeOf(policy, bucket.KeyHash);
        var remainingShare = policy.Burst == 0 ? 0 : Math.Max(0, grainRemaining) * shape.Burst / policy.Burst;
        return bucket.Reconcile(shape, remainingShare, clock.NowTicks);
    }

    /// <summary>
    /// Hands back what the local bucket of <paramref name="bucketKey"/> admitted and has not reported yet (zero without
    /// a bucket), so the caller charges it to the grains at once instead of at the key's next grain answer.
    /// </summary>
    public long TakeUnreported(string bucketKey) => _buckets.TryGetValue(bucketKey, out var bucket) ? bucket.TakeUnreported() : 0;

    /// <summary>Drops every bucket that has refilled: it has nothing left to remember (the grain's bucket refilled meanwhile too).</summary>
    public void Sweep() => SweepIfDue(clock.NowTicks, 0);

    /// <summary>FNV-1a of the key: the same on every edge (string hashes are randomized per process).</summary>
    internal static uint Hash(string key)
    {
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }

    /// <summary>The key's bucket, made (full) when it has none; null when <see cref="MaxBuckets"/> are held even after a sweep.</summary>
    private Bucket? GetOrCreate(string bucketKey, long now)
    {
        SweepIfDue(now, SweepEvery);
        if (_buckets.TryGetValue(bucketKey, out var bucket))
        {
            return bucket;
        }

        if (Count >= MaxBuckets)
        {
            SweepIfDue(now, SweepAtCapEvery);
            if (Count >= MaxBuckets)
            {
                return null;
            }
        }

        var created = new Bucket(Hash(bucketKey), now);
        bucket = _buckets.GetOrAdd(bucketKey, created);
        if (ReferenceEquals(bucket, created))
        {
            Interlocked.Increment(ref _count);
        }

        return bucket;
    }

    private Shape ShapeOf(RateLimitPolicy policy, uint keyHash)
    {
        var edges = share.LiveEdges;
        var emission = Math.Max(1, ((policy.Period.Ticks * edges) + policy.Requests - 1) / policy.Requests);
        return new Shape(emission, share.BurstShare(policy.Burst, keyHash));
    }

    private void SweepIfDue(long now, long interval)
    {
        var last = Volatile.Read(ref _lastSweep);
        if (now - last < interval || Interlocked.CompareExchange(ref _lastSweep, now, last) != last)
        {
            return;
        }

        foreach (var (key, bucket) in _buckets)
        {
            if (bucket.IsIdle(now) && _buckets.TryRemove(KeyValuePair.Create(key, bucket)))
            {
                Interlocked.Decrement(ref _count);
            }
        }
    }

    private readonly record struct Shape(long EmissionTicks, long Burst);

    /// <summary>One GCRA bucket: <c>_arrival</c> is the theoretical arrival time of the next request.</summary>
    private sealed class Bucket(uint keyHash, long now)
    {
        private readonly Lock _gate = new();
        private long _arrival = now;
        private long _unreported;

        public uint KeyHash => keyHash;

        public RateLimitDecision Take(Shape shape, long now)
        {
            lock (_gate)
            {
                var capacity = shape.Burst * shape.EmissionTicks;
                var next = Math.Max(_arrival, now) + shape.EmissionTicks;
                if (shape.Burst == 0 || next - now > capacity)
                {
                    var wait = shape.Burst == 0 ? shape.EmissionTicks : next - now - capacity;
                    return new RateLimitDecision(false, 0, TimeSpan.FromTicks(wait), false);
                }

                _arrival = next;
                _unreported++;
                var remaining = (capacity - (next - now)) / shape.EmissionTicks;
                var untilToken = remaining > 0 ? 0 : next - now - capacity + shape.EmissionTicks;
                return new RateLimitDecision(true, remaining, TimeSpan.FromTicks(untilToken), false);
            }
        }

        public long TakeUnreported()
        {
            lock (_gate)
            {
                var spent = _unreported;
                _unreported = 0;
                return spent;
            }
        }

        public long Reconcile(Shape shape, long remainingShare, long now)
        {
            lock (_gate)
            {
                var spent = _unreported;
                _unreported = 0;
                var floor = now + ((shape.Burst - Math.Min(remainingShare, shape.Burst)) * shape.EmissionTicks);
                _arrival = Math.Max(_arrival, floor);
                return spent;
            }
        }

        public bool IsIdle(long now)
        {
            lock (_gate)
            {
                return _arrival <= now;
            }
        }
    }
}
