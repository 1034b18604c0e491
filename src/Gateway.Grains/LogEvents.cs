namespace Gateway;

/// <summary>
/// Every <c>event_id</c> the gateway logs, in one place so that no two messages share an id. Grouped by feature, one
/// range each; a new message takes the next free number of its feature's range. It lives in the grains assembly, the one
/// every other gateway assembly references, and in the root namespace, so that every feature namespace sees it without a
/// <c>using</c>. A test fails when two messages share an id.
/// </summary>
public static class LogEvents
{
    // 1-9: the edge's requests and start-up.
    public const int RequestCompleted = 1;
    public const int RequestFailed = 2;
    public const int EmbeddedMode = 3;
    public const int UnhandledException = 4;

    // 10-19: process lifetime and health.
    public const int ShutdownDraining = 10;
    public const int IdleMemoryTrimmed = 11;

    // 20-29: session grains.
    public const int SessionPersistFailed = 20;

    // 30-39: routing.
    public const int RoutePolicyUnresolved = 30;

    // 40-49: sessions and login at the edge.
    public const int SessionStoreFailed = 40;
    public const int LoginUpstreamBadAnswer = 41;
    public const int LoginUpstreamUnreachable = 42;
    public const int UserSessionsRevoked = 43;
    public const int SessionKeyGenerated = 44;
    public const int SessionCreateFailed = 45;
    public const int SessionServedStale = 46;
    public const int SessionGrainsAnswerAgain = 47;
    public const int SessionLogoutFailed = 48;

    // 50-59: Redis.
    public const int RedisProfilingUnavailable = 50;

    // 60-69: the admin endpoints.
    public const int AdminAttemptsBlocked = 60;

    // 100-109: configuration (gateway.yml).
    public const int ConfigReloaded = 100;
    public const int ConfigReloadRejected = 101;
    public const int ConfigError = 102;
    public const int ConfigReadFailed = 103;
    public const int ConfigWatcherUnavailable = 104;
    public const int ConfigReloadFailed = 105;

    // 300-309: rate-limit grains.
    public const int RateLimitCheckpointFailed = 301;
    public const int RateLimitBucketActivated = 302;
    public const int RateLimitBucketDeactivated = 303;
    public const int RateLimitConflictMerged = 304;
    public const int RateLimitWarmUpFailed = 305;

    // 310-319: the edge's rate limiter.
    public const int RateLimiterUnavailable = 310;
    public const int RateLimitLeaseFailed = 311;
    public const int EdgeHeartbeatFailed = 312;
}
