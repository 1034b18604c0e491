namespace Gateway.Grains.RateLimiting;

/// <summary>
/// The DI key of the <see cref="TimeProvider"/> that rate-limit grains read. The silo registers the process's clock
/// under it; tests register a fake clock under this key alone, so that the Orleans runtime's own timers keep real time.
/// </summary>
public static class RateLimitClock
{
    public const string Key = "gateway.ratelimits";
}
