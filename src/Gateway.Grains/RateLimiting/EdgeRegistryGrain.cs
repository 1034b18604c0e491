using Gateway.Grains.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Grains.RateLimiting;

/// <summary>
/// The live edges, in memory only: a registry that moves or restarts learns every edge again within one heartbeat, and
/// says it is not <see cref="EdgeRegistration.Settled"/> until a whole expiry has passed.
/// </summary>
internal sealed class EdgeRegistryGrain([FromKeyedServices(RateLimitClock.Key)] TimeProvider time) : Grain, IEdgeRegistryGrain
{
    private readonly SortedDictionary<string, long> _lastSeen = new(StringComparer.Ordinal);
    private readonly long _activated = time.GetTimestamp();

    public ValueTask<EdgeRegistration> HeartbeatAsync(string edgeId)
    {
        ArgumentException.ThrowIfNullOrEmpty(edgeId);
        var now = time.GetTimestamp();
        _lastSeen[edgeId] = now;
        var expired = _lastSeen.Where(entry => time.GetElapsedTime(entry.Value, now) > EdgeRegistry.Expiry).Select(entry => entry.Key).ToList();
        foreach (var id in expired)
        {
            _lastSeen.Remove(id);
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

        var settled = time.GetElapsedTime(_activated, now) >= EdgeRegistry.Expiry;
        return ValueTask.FromResult(new EdgeRegistration(_lastSeen.Count, rank, settled));
    }

    public ValueTask LeaveAsync(string edgeId)
    {
        _lastSeen.Remove(edgeId);
        return ValueTask.CompletedTask;
    }
}
