using System.Collections.Immutable;

namespace Gateway.Grains.Contracts;

/// <summary>The identity the login upstream vouched for.</summary>
[GenerateSerializer, Immutable, Alias("gateway.session-identity")]
public sealed record SessionIdentity(
    [property: Id(0)] string UserId,
    [property: Id(1)] string? Tier,
    [property: Id(2)] ImmutableArray<string> Roles);

/// <summary>An active session as seen at one moment.</summary>
[GenerateSerializer, Immutable, Alias("gateway.session-snapshot")]
public sealed record SessionSnapshot(
    [property: Id(0)] SessionIdentity Identity,
    [property: Id(1)] DateTimeOffset ExpiresAt);

/// <summary>What a session check found.</summary>
[GenerateSerializer, Alias("gateway.session-status")]
public enum SessionStatus
{
    /// <summary>Active; <see cref="SessionLookup.Session"/> is set.</summary>
    Active = 0,

    /// <summary>Idle longer than its TTL, or no longer stored.</summary>
    Expired = 1,

    /// <summary>Logged out or revoked by an operator.</summary>
    Revoked = 2,
}

/// <summary>The answer of a session check.</summary>
[GenerateSerializer, Immutable, Alias("gateway.session-lookup")]
public sealed record SessionLookup(
    [property: Id(0)] SessionStatus Status,
    [property: Id(1)] SessionSnapshot? Session)
{
    public static SessionLookup Expired { get; } = new(SessionStatus.Expired, null);

    public static SessionLookup Revoked { get; } = new(SessionStatus.Revoked, null);

    public static SessionLookup Active(SessionSnapshot session) => new(SessionStatus.Active, session);
}
