using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Gateway.Grains.Contracts;
using Gateway.Grains.Sessions;

namespace Gateway.Edge.Sessions;

/// <summary>
/// What the session grains answered, kept on this edge for <see cref="Lifetime"/> (500 ms) to spare a grain call per request.
/// Revocation therefore reaches every edge within that lifetime plus one grain call, with nothing to broadcast and
/// nothing that a lost message could leave stale. The edge that revokes drops its own entries at once.
/// An active answer is kept longer, for <see cref="SessionAnswers.StaleWindow"/>, but only as the last good answer that
/// <see cref="SessionAnswers"/> may serve while the session's grain does not answer at all (stale-if-error).
/// </summary>
internal sealed class SessionCache
{
    /// <summary>How long an answer is reused; bounds how late an edge notices a revocation.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMilliseconds(500);

    /// <summary>Beyond this many entries, stale ones are swept; a sweep that frees nothing empties the cache.</summary>
    public const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, Entry> _entries;
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private readonly TimeProvider _time;

    public SessionCache([FromKeyedServices(SessionClock.Key)] TimeProvider time)
    {
        _time = time;
        _entries = new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal);
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _entries.Count;

    public bool TryGet(string sessionId, out SessionLookup lookup)
    {
        var found = TryGet(sessionId.AsSpan(), out var entry);
        lookup = found ? entry!.Lookup : SessionLookup.Expired;
        return found;
    }

    /// <summary>The fresh answer for a session id where it lies in a token: no allocation.</summary>
    public bool TryGet(ReadOnlySpan<char> sessionId, [NotNullWhen(true)] out Entry? entry)
    {
        if (TryFind(sessionId, out entry) && IsFresh(entry))
        {
            return true;
        }

        entry = null;
        return false;
    }

    /// <summary>The last answer for a session id, fresh or kept as a last good answer; drops it once it is neither.</summary>
    public bool TryFind(ReadOnlySpan<char> sessionId, [NotNullWhen(true)] out Entry? entry)
    {
        if (_bySpan.TryGetValue(sessionId, out var id, out entry))
        {
            if (!IsOutdated(entry))
            {
                return true;
            }

            _entries.TryRemove(new KeyValuePair<string, Entry>(id, entry));
        }

        entry = null;
        return false;
    }

    /// <summary>Whether the answer is young enough to be used without asking the grain.</summary>
    public bool IsFresh(Entry entry) => _time.GetElapsedTime(entry.StoredAt) < Lifetime;

    /// <summary>Neither fresh nor an active answer within the stale window: of no use any more.</summary>
    private bool IsOutdated(Entry entry)
    {
        var age = _time.GetElapsedTime(entry.StoredAt);
        return age >= (entry.Feature is null ? Lifetime : SessionAnswers.StaleWindow);
    }

    /// <summary>Stores a session grain's answer; returns the entry made of it.</summary>
    public Entry Set(string sessionId, SessionLookup lookup)
    {
        if (_entries.Count >= MaxEntries)
        {
            Sweep();
        }

        var entry = new Entry(sessionId, lookup, _time.GetTimestamp());
        _entries[sessionId] = entry;
        return entry;
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
            if (IsOutdated(entry))
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(id, entry));
            }
        }

        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }
    }

    /// <summary>
    /// One answer of a session grain. An active session's <see cref="Feature"/> is made once here and shared by every
    /// request that the answer serves (it is immutable).
    /// </summary>
    internal sealed record Entry(string SessionId, SessionLookup Lookup, long StoredAt)
    {
        public SessionFeature? Feature { get; } =
            Lookup.Status == SessionStatus.Active && Lookup.Session is { } session ? new SessionFeature(SessionId, session) : null;
    }
}
