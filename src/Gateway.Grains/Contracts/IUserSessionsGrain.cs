namespace Gateway.Grains.Contracts;

/// <summary>
/// The index of one user's sessions, keyed by user id, so that an operator can revoke all of them at once.
/// Entries carry the session's last known expiry and are pruned once it has passed.
/// </summary>
[Alias("gateway.user-sessions")]
public interface IUserSessionsGrain : IGrainWithStringKey
{
    /// <summary>Adds a session or refreshes its expiry.</summary>
    [Alias("track")]
    Task TrackAsync(string sessionId, DateTimeOffset expiresAt);

    /// <summary>Revokes every session of the user; returns how many were tracked.</summary>
    [Alias("revoke-all")]
    [ResponseTimeout("00:00:10")]
    Task<int> RevokeAllAsync();
}
