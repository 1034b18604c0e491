using System.Collections.Concurrent;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// After a denial the edge answers 429 itself until the bucket's next conforming time. Exact: that time only moves
/// forward (no other edge can make the bucket conform sooner), and it is counted from when the question was sent.
/// Client keys are chosen by clients (any address, any user name), so the cache holds at most <see cref="Capacity"/>
/// buckets: when full it drops what has expired, and if it is still full it does not remember the new denial. A bucket
/// missing here only costs a grain call, which gives the same answer: the cap never admits a request wrongly.
/// </summary>
internal sealed class DenyCache(EdgeClock clock, int capacity = DenyCache.DefaultCapacity)
{
    public const int DefaultCapacity = 100_000;

    private const int SweepThreshold = 10_000;

    private readonly ConcurrentDictionary<string, long> _until = new(StringComparer.Ordinal);
    private long _nextSweep;

    // The entries, counted here: ConcurrentDictionary.Count takes every lock of the dictionary, too dear per denial.
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public int Capacity => capacity;

    /// <summary>True while <paramref name="bucket"/> is known to be empty; <paramref name="retryAfter"/> is the time left.</summary>
    public bool IsDenied(string bucket, long now, out TimeSpan retryAfter)
    {
        if (_until.TryGetValue(bucket, out var until))
        {
            if (until > now)
            {
                retryAfter = TimeSpan.FromTicks(until - now);
                return true;
            }

            Remove(bucket, until);
        }

        retryAfter = TimeSpan.Zero;
        return false;
    }

    public void Deny(string bucket, long until)
    {
        while (true)
        {
            if (_until.TryGetValue(bucket, out var existing))
            {
                if (existing >= until || _until.TryUpdate(bucket, until, existing))
                {
                    return;
                }

                continue;
            }

            var now = clock.NowTicks;
            if (Count >= capacity)
            {
                // Full: make room from what has expired, else skip this one. (Concurrent adds may pass the cap by a few.)
                TrySweep(now);
                if (Count >= capacity)
                {
                    return;
                }
            }

            if (_until.TryAdd(bucket, until))
            {
                if (Interlocked.Increment(ref _count) > SweepThreshold)
                {
                    TrySweep(now);
                }

                return;
            }
        }
    }

    private void Remove(string bucket, long until)
    {
        if (_until.TryRemove(KeyValuePair.Create(bucket, until)))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    /// <summary>Drops expired entries, at most once a second: a flood of denials never turns into a scan per denial.</summary>
    private void TrySweep(long now)
    {
        var next = Interlocked.Read(ref _nextSweep);
        if (now < next || Interlocked.CompareExchange(ref _nextSweep, now + TimeSpan.TicksPerSecond, next) != next)
        {
            return;
        }

        foreach (var (key, value) in _until)
        {
            if (value <= now)
            {
                Remove(key, value);
            }
        }
    }
}
