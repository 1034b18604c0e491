using Gateway.Grains.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Gateway.Grains.Sessions;

/// <summary>
/// One session. The idle expiry slides in memory on every check and is persisted only once it has moved by a tenth
/// of the TTL (and on deactivation), so a busy session costs about ten writes per TTL rather than one per request.
/// Expiry and revocation delete the stored state; Redis' own key expiry removes what no activation is left to delete.
/// Use never extends a session past its absolute lifetime: it expires at min(last use + TTL, creation + max lifetime).
/// </summary>
internal sealed partial class SessionGrain(
    [PersistentState("session", StorageNames.Sessions)] IPersistentState<SessionState> state,
    [FromKeyedServices(SessionClock.Key)] TimeProvider time,
    ILogger<SessionGrain> logger) : Grain, ISessionGrain
{
    private static readonly TimeSpan MinimumPersistInterval = TimeSpan.FromSeconds(1);

    private bool _revoked;
    private DateTimeOffset _expiresAt;

    private TimeSpan IdleTtl => TimeSpan.FromMilliseconds(state.State.IdleTtlMilliseconds);

    /// <summary>When the session ends whatever its use (records stored without a max lifetime get the default).</summary>
    private DateTimeOffset AbsoluteEnd => state.State.CreatedAt + (state.State.MaxLifetimeMilliseconds > 0
        ? TimeSpan.FromMilliseconds(state.State.MaxLifetimeMilliseconds)
        : SessionLimits.DefaultMaxLifetime);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.RecordExists)
        {
            _expiresAt = Min(state.State.ExpiresAt, AbsoluteEnd);
            if (time.GetUtcNow() >= _expiresAt)
            {
                await DeleteStateAsync();
            }
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_revoked || !state.RecordExists)
        {
            return;
        }

        try
        {
            if (time.GetUtcNow() >= _expiresAt)
            {
                await DeleteStateAsync();
            }
            else if (_expiresAt > state.State.ExpiresAt)
            {
                await PersistAsync();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPersistFailed(logger, ex);
        }
    }

    public async Task<SessionSnapshot> CreateAsync(SessionIdentity identity, TimeSpan idleTtl, TimeSpan maxLifetime)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(idleTtl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLifetime, TimeSpan.Zero);
        if (maxLifetime == TimeSpan.Zero)
        {
            // A caller from before the argument existed.
            maxLifetime = SessionLimits.DefaultMaxLifetime;
        }

        if (_revoked || state.RecordExists)
        {
            throw new InvalidOperationException("This session id is already in use.");
        }

        var now = time.GetUtcNow();
        _expiresAt = Min(now + idleTtl, now + maxLifetime);
        state.State = new SessionState
        {
            UserId = identity.UserId,
            Tier = identity.Tier,
            Roles = [.. identity.Roles.IsDefault ? [] : identity.Roles],
            CreatedAt = now,
            IdleTtlMilliseconds = (long)idleTtl.TotalMilliseconds,
            MaxLifetimeMilliseconds = (long)maxLifetime.TotalMilliseconds,
        };
        await PersistAsync();
        return Snapshot();
    }

    public async Task<SessionLookup> TouchAsync()
    {
        if (_revoked)
        {
            return SessionLookup.Revoked;
        }

        if (!state.RecordExists)
        {
            return SessionLookup.Expired;
        }

        var now = time.GetUtcNow();
        if (now >= _expiresAt)
        {
            await DeleteStateAsync();
            return SessionLookup.Expired;
        }

        var ttl = IdleTtl;
        _expiresAt = Min(now + ttl, AbsoluteEnd);
        var interval = ttl / 10 > MinimumPersistInterval ? ttl / 10 : MinimumPersistInterval;
        if (_expiresAt - state.State.ExpiresAt >= interval)
        {
            try
            {
                await PersistAsync();
            }
            catch (Exception ex) when (ex is not InconsistentStateException)
            {
                // The check itself succeeded; the next use retries the write, deactivation writes the latest expiry.
                LogPersistFailed(logger, ex);
            }
        }

        return SessionLookup.Active(Snapshot());
    }

    public async Task RevokeAsync()
    {
        if (_revoked)
        {
            return;
        }

        _revoked = true;
        if (state.RecordExists)
        {
            await DeleteStateAsync();
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private SessionSnapshot Snapshot() => new(
        new SessionIdentity(state.State.UserId, state.State.Tier, [.. state.State.Roles]),
        _expiresAt);

    /// <summary>Registers the session with its user's index first, so that an operator can always find what is stored.</summary>
    private async Task PersistAsync()
    {
        var id = this.GetPrimaryKeyString();
        await GrainFactory.GetGrain<IUserSessionsGrain>(state.State.UserId).TrackAsync(id, _expiresAt);
        var previous = state.State.ExpiresAt;
        state.State.ExpiresAt = _expiresAt;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State.ExpiresAt = previous;
            throw;
        }
    }

    private async Task DeleteStateAsync()
    {
        try
        {
            await state.ClearStateAsync();
        }
        catch (InconsistentStateException)
        {
            // Already gone (Redis expired the key) or changed underneath: read what is there and delete that.
            await state.ReadStateAsync();
            if (state.RecordExists)
            {
                await state.ClearStateAsync();
            }
        }
    }

    [LoggerMessage(EventId = LogEvents.SessionPersistFailed, Level = LogLevel.Warning, Message = "Could not persist a session's expiry; the next use retries")]
    private static partial void LogPersistFailed(ILogger logger, Exception exception);
}
