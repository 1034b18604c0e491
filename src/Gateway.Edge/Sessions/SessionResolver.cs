using Gateway.Grains.Contracts;
using Gateway.Hosting.Configuration;

namespace Gateway.Edge.Sessions;

/// <summary>The outcome of checking a request's session.</summary>
internal sealed record SessionCheck(string? FailureReason, string? SessionId, SessionSnapshot? Session, bool SignedWithPrevious)
{
    public bool IsValid => FailureReason is null && Session is not null;

    public static SessionCheck Failed(string reason, string? sessionId = null) => new(reason, sessionId, null, false);
}

/// <summary>
/// Finds the request's token (<c>Authorization: Bearer</c>, else the session cookie), verifies its signature on the
/// edge, and only then asks the session grain, through the short-lived <see cref="SessionCache"/>.
/// </summary>
internal sealed class SessionResolver(SessionTokenCodec codec, SessionCache cache, IGrainFactory grains, GatewayConfigStore config)
{
    public SessionTokenCodec Codec => codec;

    public SessionCache Cache => cache;

    /// <summary>The session cookie's name in the configuration in force.</summary>
    public string CookieName => config.Current.Session.Cookie;

    public string? ReadToken(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        // The exact name only: Request.Cookies would also take GW_SESSION or a percent-encoded spelling of the name.
        return GatewayCredentials.FindCookie(context.Request.Headers.Cookie, CookieName);
    }

    /// <summary>Verifies the token only: no grain call.</summary>
    public SessionCheck VerifyToken(HttpContext context, out VerifiedToken verified)
    {
        verified = default;
        var token = ReadToken(context);
        if (token is null)
        {
            return SessionCheck.Failed(AuthFailureReason.Missing);
        }

        return codec.Verify(token, out verified) switch
        {
            TokenError.None => new SessionCheck(null, verified.SessionId, null, verified.SignedWithPrevious),
            TokenError.BadSignature => SessionCheck.Failed(AuthFailureReason.BadSignature),
            _ => SessionCheck.Failed(AuthFailureReason.Malformed),
        };
    }

    /// <summary>Verifies the token and asks the session (cached for at most <see cref="SessionCache.Lifetime"/>).</summary>
    public async ValueTask<SessionCheck> CheckAsync(HttpContext context)
    {
        var verifiedCheck = VerifyToken(context, out var verified);
        if (verifiedCheck.FailureReason is not null)
        {
            return verifiedCheck;
        }

        if (!cache.TryGet(verified.SessionId, out var lookup))
        {
            lookup = await grains.GetGrain<ISessionGrain>(verified.SessionId).TouchAsync();
            cache.Set(verified.SessionId, lookup);
        }

        return lookup.Status switch
        {
            SessionStatus.Active when lookup.Session is not null => new SessionCheck(null, verified.SessionId, lookup.Session, verified.SignedWithPrevious),
            SessionStatus.Revoked => SessionCheck.Failed(AuthFailureReason.Revoked, verified.SessionId),
            _ => SessionCheck.Failed(AuthFailureReason.Expired, verified.SessionId),
        };
    }
}
