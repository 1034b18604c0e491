using Gateway.Grains.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Grains.RateLimiting;

/// <summary>
/// The live edges, in memory only: a registry that moves or restarts learns every edge again within one heartbeat, and
/// says it is not <see cref="EdgeRegistration.Settled"/> until a whole expiry has passed. An edge that joins a settled
/// registry is <see cref="EdgeRegistration.Joining"/> for <see cref="EdgeRegistry.JoinDelay"/> (an unsettled one cannot
/// tell a new edge from one it has not heard from yet).
/// </summary>
internal sealed class EdgeRegistryGrain([FromKeyedServices(RateLimitClock.Key)] TimeProvider time) : Grain, IEdgeRegistryGrain
{
    /// <summary>Marks an edge in <see cref="_joined"/> that reported before the registry settled.</summary>
    private const long KnownBefore = long.MinValue;

    private readonly SortedDictionary<string, long> _lastSeen = new(StringComparer.Ordinal);

    /// <summary>When each live edge first reported (a timestamp of the clock), or <see cref="KnownBefore"/>.</summary>
    private readonly Dictionary<string, long> _joined = new(StringComparer.Ordinal);
    private readonly long _activated = time.GetTimestamp();

    public ValueTask<EdgeRegistration> HeartbeatAsync(string edgeId)
    {
        ArgumentException.ThrowIfNullOrEmpty(edgeId);
        var now = time.GetTimestamp();
        var settled = time.GetElapsedTime(_activated, now) >= EdgeRegistry.Expiry;
        _lastSeen[edgeId] = now;
        // Before the registry settles every edge counts as known: it may have been reporting to an earlier activation.
        _joined.TryAdd(edgeId, settled ? now : KnownBefore);

        var expired = _lastSeen.Where(entry => time.GetElapsedTime(entry.Value, now) > EdgeRegistry.Expiry).Select(entry => entry.Key).ToList();
        foreach (var id in expired)
        {
            _lastSeen.Remove(id);
            _joined.Remove(id);
        }

        var rank = 0;
        foreach (var id in _lastSeen.Keys)
        {
            if (string.Equals(id, edgeId, StringComparison.Ordinal))
            {
                break;
            }

            rank++;
        }

        var joined = _joined[edgeId];
        var joining = joined != KnownBefore && time.GetElapsedTime(joined, now) < EdgeRegistry.JoinDelay;
        return ValueTask.FromResult(new EdgeRegistration(_lastSeen.Count, rank, settled, joining));
    }

    public ValueTask LeaveAsync(string edgeId)
    {
        _lastSeen.Remove(edgeId);
        _joined.Remove(edgeId);
        return ValueTask.CompletedTask;
    }
}
