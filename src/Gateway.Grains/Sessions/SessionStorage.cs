namespace Gateway.Grains.Sessions;

/// <summary>How the session storage provider is set up, next to the grains whose write pattern it depends on.</summary>
public static class SessionStorage
{
    /// <summary>
    /// The Redis key expiry of session state. A session persists its sliding expiry at least every tenth of its TTL,
    /// so a stored record outlives its session by at most this; it only collects what no activation deleted (a silo
    /// killed while a session idled). Twice the TTL leaves room for a TTL raised by a reload. A session also ends at
    /// its absolute lifetime, after its last write, so a max lifetime shorter than the TTL bounds the entry the same way.
    /// </summary>
    public static TimeSpan EntryExpiryFor(TimeSpan sessionTtl, TimeSpan maxLifetime) =>
        ((sessionTtl < maxLifetime ? sessionTtl : maxLifetime) * 2) + TimeSpan.FromMinutes(1);

    /// <summary>The state serializer of the session storage: JSON without .NET type names.</summary>
    public static SessionStorageSerializer Serializer { get; } = new();
}
