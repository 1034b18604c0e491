using Gateway.Grains.Contracts;
using Gateway.Hosting.Configuration;

namespace Gateway.Edge.Sessions;

/// <summary>The outcome of checking a request's session.</summary>
/// <remarks>A value, not an object: the check of a cached session allocates nothing.</remarks>
internal readonly record struct SessionCheck(string? FailureReason, string? SessionId, SessionSnapshot? Session, bool SignedWithPrevious, SessionFeature? Feature = null)
{
    public bool IsValid => FailureReason is null && Session is not null;

    public static SessionCheck Failed(string reason, string? sessionId = null) => new(reason, sessionId, null, false);
}

/// <summary>
/// Finds the request's token (<c>Authorization: Bearer</c>, else the session cookie), verifies its signature on the
/// edge, and only then asks the session grain, through <see cref="SessionAnswers"/> (the short-lived
/// <see cref="SessionCache"/>, and the last good answer while the grain does not answer).
/// </summary>
internal sealed class SessionResolver(SessionTokenCodec codec, SessionAnswers answers, GatewayConfigStore config)
{
    public SessionTokenCodec Codec => codec;

    public SessionCache Cache => answers.Cache;

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
    /// <remarks>A cached session is checked without allocating: the token is verified where it lies in the header.</remarks>
    public ValueTask<SessionCheck> CheckAsync(HttpContext context)
    {
        string? cookieToken = null;
        var token = ReadBearer(context);
        if (token is null)
        {
            cookieToken = GatewayCredentials.FindCookie(context.Request.Headers.Cookie, CookieName);
            if (cookieToken is null)
            {
                return ValueTask.FromResult(SessionCheck.Failed(AuthFailureReason.Missing));
            }
        }

        var span = cookieToken is null ? BearerToken(token!) : cookieToken.AsSpan();
        var error = codec.Verify(span, out var signedWithPrevious);
        if (error != TokenError.None)
        {
            return ValueTask.FromResult(SessionCheck.Failed(error == TokenError.BadSignature ? AuthFailureReason.BadSignature : AuthFailureReason.Malformed));
        }

        var sessionId = SessionTokenCodec.SessionIdOf(span);
        return answers.TryGet(sessionId, out var cached)
            ? ValueTask.FromResult(Outcome(cached, signedWithPrevious))
            : AskAsync(sessionId.ToString(), signedWithPrevious);
    }

    private async ValueTask<SessionCheck> AskAsync(string sessionId, bool signedWithPrevious) =>
        Outcome(await answers.AskAsync(sessionId), signedWithPrevious);

    private static SessionCheck Outcome(SessionCache.Entry entry, bool signedWithPrevious) => entry.Lookup.Status switch
    {
        SessionStatus.Active when entry.Feature is { } feature => new SessionCheck(null, entry.SessionId, feature.Session, signedWithPrevious, feature),
        SessionStatus.Revoked => SessionCheck.Failed(AuthFailureReason.Revoked, entry.SessionId),
        _ => SessionCheck.Failed(AuthFailureReason.Expired, entry.SessionId),
    };

    /// <summary>The <c>Authorization</c> value when its scheme is Bearer (the whole header: no copy), else null.</summary>
    private static string? ReadBearer(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization;
        var value = authorization.Count == 1 ? authorization[0] : authorization.ToString();
        return value is not null && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? value : null;
    }

    private static ReadOnlySpan<char> BearerToken(string authorization) => authorization.AsSpan("Bearer ".Length).Trim();
}
