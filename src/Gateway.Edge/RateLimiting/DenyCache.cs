using System.Collections.Concurrent;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// After a denial the edge answers 429 itself until the bucket's next conforming time. Exact: that time only moves
/// forward (no other edge can make the bucket conform sooner), and it is counted from when the question was sent.
/// </summary>
internal sealed class DenyCache(EdgeClock clock)
{
    private const int SweepThreshold = 10_000;

    private readonly ConcurrentDictionary<string, long> _until = new(StringComparer.Ordinal);
    private long _nextSweep;

    public int Count => _until.Count;

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

            _until.TryRemove(KeyValuePair.Create(bucket, until));
        }

        retryAfter = TimeSpan.Zero;
        return false;
    }

    public void Deny(string bucket, long until)
    {
        _until.AddOrUpdate(bucket, until, (_, existing) => Math.Max(existing, until));
        var now = clock.NowTicks;
        if (_until.Count > SweepThreshold && now >= Interlocked.Read(ref _nextSweep))
        {
            Interlocked.Exchange(ref _nextSweep, now + TimeSpan.TicksPerSecond);
            foreach (var (key, value) in _until)
            {
                if (value <= now)
                {
                    _until.TryRemove(KeyValuePair.Create(key, value));
                }
            }
        }
    }
}
