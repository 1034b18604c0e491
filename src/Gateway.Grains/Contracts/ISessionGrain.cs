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
    [Alias("create")]
    [ResponseTimeout("00:00:05")]
    Task<SessionSnapshot> CreateAsync(SessionIdentity identity, TimeSpan idleTtl);

    /// <summary>Checks the session and, when it is active, slides its idle expiry.</summary>
    [Alias("touch")]
    Task<SessionLookup> TouchAsync();

    /// <summary>Revokes the session and deletes its state; later checks answer <see cref="SessionStatus.Revoked"/>.</summary>
    [Alias("revoke")]
    Task RevokeAsync();
}
