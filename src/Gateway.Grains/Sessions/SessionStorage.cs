namespace Gateway.Grains.Sessions;

/// <summary>How the session storage provider is set up, next to the grains whose write pattern it depends on.</summary>
public static class SessionStorage
{
    /// <summary>
    /// The Redis key expiry of session state. A session persists its sliding expiry at least every tenth of its TTL,
    /// so a stored record outlives its session by at most this; it only collects what no activation deleted (a silo
    /// killed while a session idled). Twice the TTL leaves room for a TTL raised by a reload.
    /// </summary>
    public static TimeSpan EntryExpiryFor(TimeSpan sessionTtl) => (sessionTtl * 2) + TimeSpan.FromMinutes(1);

    /// <summary>The state serializer of the session storage: JSON without .NET type names.</summary>
    public static SessionStorageSerializer Serializer { get; } = new();
}
