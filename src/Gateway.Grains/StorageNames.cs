namespace Gateway.Grains;

/// <summary>Names of the grain storage providers the silo registers.</summary>
public static class StorageNames
{
    /// <summary>Session state: Redis in clustered mode, memory in embedded mode.</summary>
    public const string Sessions = "sessions";

    /// <summary>Checkpoints of rate-limit buckets, so membership changes do not hand out fresh buckets.</summary>
    public const string RateLimits = "ratelimits";
}
