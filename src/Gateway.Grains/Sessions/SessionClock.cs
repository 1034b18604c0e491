namespace Gateway.Grains.Sessions;

/// <summary>
/// The DI key of the <see cref="TimeProvider"/> that session grains and the edge's session code read. Orleans
/// resolves any unregistered key to the process's clock; tests register a fake clock under this key alone,
/// so that the runtime's own timers keep real time.
/// </summary>
public static class SessionClock
{
    public const string Key = "gateway.sessions";
}
