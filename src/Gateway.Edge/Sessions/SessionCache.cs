using System.Collections.Concurrent;
using Gateway.Grains.Contracts;
using Gateway.Grains.Sessions;

namespace Gateway.Edge.Sessions;

/// <summary>
/// What the session grains answered, kept on this edge for <see cref="Lifetime"/> (500 ms) to spare a grain call per request.
/// Revocation therefore reaches every edge within that lifetime plus one grain call, with nothing to broadcast and
/// nothing that a lost message could leave stale. The edge that revokes drops its own entries at once.
/// </summary>
internal sealed class SessionCache([FromKeyedServices(SessionClock.Key)] TimeProvider time)
{
    /// <summary>How long an answer is reused; bounds how late an edge notices a revocation.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMilliseconds(500);

    /// <summary>Beyond this many entries, stale ones are swept; a sweep that frees nothing empties the cache.</summary>
    public const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    public bool TryGet(string sessionId, out SessionLookup lookup)
    {
        if (_entries.TryGetValue(sessionId, out var entry))
        {
            if (time.GetElapsedTime(entry.StoredAt) < Lifetime)
            {
                lookup = entry.Lookup;
                return true;
            }

            _entries.TryRemove(new KeyValuePair<string, Entry>(sessionId, entry));
        }

        lookup = SessionLookup.Expired;
        return false;
    }

    public void Set(string sessionId, SessionLookup lookup)
    {
        if (_entries.Count >= MaxEntries)
        {
            Sweep();
        }

        _entries[sessionId] = new Entry(lookup, time.GetTimestamp());
    }

    public void Remove(string sessionId) => _entries.TryRemove(sessionId, out _);

    /// <summary>Drops every entry of a user (after an operator revoked all of the user's sessions).</summary>
    public void RemoveUser(string userId)
    {
        foreach (var (id, entry) in _entries)
        {
            if (entry.Lookup.Session?.Identity.UserId == userId)
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(id, entry));
            }
        }
    }

    private void Sweep()
    {
        foreach (var (id, entry) in _entries)
        {
            if (time.GetElapsedTime(entry.StoredAt) >= Lifetime)
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(id, entry));
            }
        }

        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }
    }

    private sealed record Entry(SessionLookup Lookup, long StoredAt);
}
