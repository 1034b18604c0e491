using System.Collections.Immutable;

namespace Gateway.Grains.Contracts;

/// <summary>
/// The index of one user's sessions, keyed by user id, so that an operator can revoke all of them at once.
/// Entries carry the session's last known expiry and are pruned once it has passed. Sessions call this grain;
/// it never calls a session, so the two can never wait on each other.
/// </summary>
[Alias("gateway.user-sessions")]
public interface IUserSessionsGrain : IGrainWithStringKey
{
    /// <summary>Adds a session or refreshes its expiry.</summary>
    [Alias("track")]
    Task TrackAsync(string sessionId, DateTimeOffset expiresAt);

    /// <summary>The ids of the user's sessions that may still be active.</summary>
    [Alias("list")]
    Task<ImmutableArray<string>> ListAsync();

    /// <summary>Drops sessions from the index once they have been revoked.</summary>
    [Alias("forget")]
    Task ForgetAsync(ImmutableArray<string> sessionIds);
}
