using System.Text.Json.Serialization;

namespace Gateway.Grains.Sessions;

/// <summary>The stored form of a session; JSON names are fixed so that C# renames do not change the stored shape.</summary>
internal sealed class SessionState
{
    [JsonPropertyName("user_id")]
    public string UserId { get; set; } = string.Empty;

    [JsonPropertyName("tier")]
    public string? Tier { get; set; }

    [JsonPropertyName("roles")]
    public List<string> Roles { get; set; } = [];

    [JsonPropertyName("created_at")]
    public DateTimeOffset CreatedAt { get; set; }

    [JsonPropertyName("idle_ttl_ms")]
    public long IdleTtlMilliseconds { get; set; }

    /// <summary>The absolute lifetime from <see cref="CreatedAt"/>; 0 in records stored before it existed (then the default applies).</summary>
    [JsonPropertyName("max_lifetime_ms")]
    public long MaxLifetimeMilliseconds { get; set; }

    /// <summary>The expiry as last persisted; the active grain slides a newer one in memory.</summary>
    [JsonPropertyName("expires_at")]
    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>The stored form of a user's session index: session id to last known expiry.</summary>
internal sealed class UserSessionsState
{
    [JsonPropertyName("sessions")]
    public Dictionary<string, DateTimeOffset> Sessions { get; set; } = new(StringComparer.Ordinal);
}
