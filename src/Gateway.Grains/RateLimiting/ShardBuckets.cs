using System.Runtime.InteropServices;
using Gateway.Grains.Contracts;

namespace Gateway.Grains.RateLimiting;

/// <summary>
/// The buckets of one shard, in memory: a bucket is created on its first call (from the shard's checkpoint when it had
/// one, read once when the shard activated: never a storage read per bucket) and evicted once it is full and unused, so
/// idle clients hold no memory. Not thread-safe: the shard grain calls it one turn at a time.
/// </summary>
internal sealed class ShardBuckets
{
    private readonly Dictionary<string, ShardBucket> _buckets = new(StringComparer.Ordinal);
    private Dictionary<string, long> _restored = new(StringComparer.Ordinal);

    /// <summary>Buckets in memory.</summary>
    public int Count => _buckets.Count;

    /// <summary>Some bucket's unsaved debt is worth a checkpoint (see <see cref="NeedsCheckpoint"/>).</summary>
    public bool Dirty { get; private set; }

    /// <summary>Some bucket changed since the last checkpoint.</summary>
    public bool Changed { get; private set; }

    /// <summary>Takes the checkpoint read at activation: its buckets are restored on their first call.</summary>
    public void Restore(Dictionary<string, long> checkpoint) => _restored = new Dictionary<string, long>(checkpoint, StringComparer.Ordinal);

    /// <summary>
    /// Exact mode: first charges <paramref name="debt"/> requests the edge admitted on its own (up to what the bucket
    /// holds), then takes up to <paramref name="count"/> tokens, judged as that many sequential requests at <paramref name="now"/>.
    /// </summary>
    public RateLimitGrant Acquire(string bucket, RateLimitRate rate, long now, long count, long debt = 0)
    {
        var entry = Touch(bucket, rate, now);
        var charged = debt > 0 ? entry.Gcra.TakeUpTo(rate, now, debt) : 0;
        var granted = entry.Gcra.TakeUpTo(rate, now, count);
        return Taken(entry, rate, now, granted, charged + granted);
    }

    /// <summary>Fast mode: gives back <paramref name="returning"/> tokens, then leases up to <paramref name="want"/>.</summary>
    public RateLimitGrant Lease(string bucket, RateLimitRate rate, long now, long want, long returning)
    {
        var entry = Touch(bucket, rate, now);
        entry.Gcra.Return(rate, now, Math.Min(returning, rate.MaxLease));
        var granted = entry.Gcra.TakeUpTo(rate, now, Math.Min(want, rate.MaxLease));
        Changed |= returning > 0;
        return Taken(entry, rate, now, granted, granted);
    }

    /// <summary>The bucket's state without taking anything or creating it.</summary>
    public RateLimitGrant Peek(string bucket, RateLimitRate rate, long now)
    {
        var gcra = _buckets.TryGetValue(bucket, out var entry)
            ? entry.Gcra
            : new GcraBucket(_restored.GetValueOrDefault(bucket));
        return gcra.Grant(rate, now, 0);
    }

    /// <summary>What a checkpoint holds: every bucket in debt at <paramref name="now"/>, restored ones not yet called included.</summary>
    public Dictionary<string, long> Snapshot(long now)
    {
        var snapshot = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (bucket, value) in _restored)
        {
            if (value > now)
            {
                snapshot[bucket] = value;
            }
        }

        foreach (var (bucket, entry) in _buckets)
        {
            if (!entry.Gcra.IsFull(now))
            {
                snapshot[bucket] = entry.Gcra.TheoreticalArrival;
            }
        }

        return snapshot;
    }

    /// <summary>The snapshot taken before was written: every bucket's debt is saved.</summary>
    public void Saved()
    {
        foreach (var entry in _buckets.Values)
        {
            entry.Saved = entry.Gcra.TheoreticalArrival;
        }

        Dirty = false;
        Changed = false;
    }

    /// <summary>
    /// Folds in another activation's checkpoint of this shard (a duplicate a membership change allowed): the later
    /// theoretical arrival of each bucket wins, so no token either copy handed out comes back.
    /// </summary>
    public void Merge(Dictionary<string, long> theirs)
    {
        foreach (var (bucket, value) in theirs)
        {
            if (_buckets.TryGetValue(bucket, out var entry))
            {
                entry.Gcra.Merge(value);
            }
            else
            {
                ref var restored = ref CollectionsMarshal.GetValueRefOrAddDefault(_restored, bucket, out _);
                restored = Math.Max(restored, value);
            }
        }

        Changed = true;
    }

    /// <summary>Forgets the buckets that are full and were not called since <paramref name="unusedSince"/>: they hold nothing a fresh bucket would not.</summary>
    public int Evict(long now, long unusedSince)
    {
        var evicted = 0;
        foreach (var (bucket, entry) in _buckets)
        {
            if (entry.LastCall < unusedSince && entry.Gcra.IsFull(now))
            {
                _buckets.Remove(bucket);
                evicted++;
            }
        }

        foreach (var (bucket, value) in _restored)
        {
            if (value <= now)
            {
                _restored.Remove(bucket);
            }
        }

        // A dictionary keeps its largest size: after a flood of keys its arrays (large-object heap) would stay.
        if (evicted > 0 && _buckets.Count < _buckets.EnsureCapacity(0) / 4)
        {
            _buckets.TrimExcess();
        }

        return evicted;
    }

    /// <summary>
    /// Worth a write once the debt the checkpoint does not cover (what a restart from it would give away) reaches a tenth
    /// of the burst, at least one token. A bucket whose debt has drained needs none, whatever was saved before.
    /// </summary>
    internal static bool NeedsCheckpoint(GcraBucket gcra, long saved, RateLimitRate rate, long now) =>
        gcra.TheoreticalArrival - Math.Max(saved, now) >= rate.EmissionTicks * Math.Max(1, rate.Burst / 10);

    private ShardBucket Touch(string bucket, RateLimitRate rate, long now)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_buckets, bucket, out var exists);
        if (!exists)
        {
            var restored = _restored.Remove(bucket, out var value) ? value : 0;
            entry = new ShardBucket(restored);
        }

        entry!.LastCall = now;
        return entry;
    }

    private RateLimitGrant Taken(ShardBucket entry, RateLimitRate rate, long now, long granted, long taken)
    {
        if (taken != 0)
        {
            Changed = true;
            Dirty |= NeedsCheckpoint(entry.Gcra, entry.Saved, rate, now);
        }

        return entry.Gcra.Grant(rate, now, granted);
    }

    /// <summary>One bucket: its GCRA state, the theoretical arrival its shard's checkpoint holds, and its last call.</summary>
    private sealed class ShardBucket(long theoreticalArrival)
    {
        public GcraBucket Gcra { get; } = new(theoreticalArrival);

        public long Saved = theoreticalArrival;

        public long LastCall;
    }
}
