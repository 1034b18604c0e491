namespace Gateway.Grains.Contracts;

/// <summary>
/// One session, keyed by its random session id (never by the signed token). Its state is persisted in the
/// <see cref="StorageNames.Sessions"/> storage and removed when the session expires or is revoked.
/// </summary>
[Alias("gateway.session")]
public interface ISessionGrain : IGrainWithStringKey
{
    /// <summary>Creates the session; refused if the id was ever used (ids are random, so this only guards against fixation).</summary>
    /// <param name="identity">Who the identity upstream said the user is.</param>
    /// <param name="idleTtl">How long the session lives without use; every use slides it.</param>
    /// <param name="maxLifetime">
    /// How long the session lives from now at most, whatever its use. Added after the first release (the call's third
    /// argument): a caller that does not send it gets <see cref="SessionLimits.DefaultMaxLifetime"/>.
    /// </param>
    [Alias("create")]
    [ResponseTimeout("00:00:05")]
    Task<SessionSnapshot> CreateAsync(SessionIdentity identity, TimeSpan idleTtl, TimeSpan maxLifetime);

    /// <summary>Checks the session and, when it is active, slides its idle expiry.</summary>
    [Alias("touch")]
    Task<SessionLookup> TouchAsync();

    /// <summary>Revokes the session and deletes its state; later checks answer <see cref="SessionStatus.Revoked"/>.</summary>
    [Alias("revoke")]
    Task RevokeAsync();
}

/// <summary>Limits every session has, whatever its caller or its stored form says.</summary>
public static class SessionLimits
{
    /// <summary>The absolute lifetime of a session created or stored without one (the contract's default <c>session.max_lifetime</c>).</summary>
    public static readonly TimeSpan DefaultMaxLifetime = TimeSpan.FromHours(24);
}
