using Gateway.Edge.Pipeline;
using Gateway.Grains.Contracts;
using Gateway.Hosting.Http;
using Gateway.Hosting.Observability;

namespace Gateway.Edge.Sessions;

/// <summary>The valid session of a request, set by the session check and read by the identity header transform.</summary>
/// <remarks>Immutable: the session cache shares one per cached answer between the requests it serves.</remarks>
internal sealed record SessionFeature(string SessionId, SessionSnapshot Session)
{
    public SessionIdentity Identity => Session.Identity;

    /// <summary>The <c>X-User-Roles</c> value: the roles joined with commas, made once.</summary>
    public string RolesHeader { get; } = string.Join(',', Session.Identity.Roles.IsDefault ? [] : Session.Identity.Roles);
}

/// <summary>What the edge does with the outcome of a session check: accept the identity, or refuse with 401.</summary>
internal static class SessionOutcome
{
    /// <summary>
    /// Makes the session's identity the request's (access log, rate-limit tier, identity headers) and, when the token
    /// was signed with the previous key, sends the same session back signed with the current one, in a response no
    /// shared cache may keep (<c>Cache-Control: private, no-store</c>, whatever the upstream said).
    /// </summary>
    public static void Accept(HttpContext context, SessionCheck check, SessionResolver resolver, bool secureCookie)
    {
        var session = check.Session!;
        context.GatewayRequest().Session = check.Feature ?? new SessionFeature(check.SessionId!, session);
        if (check.SignedWithPrevious)
        {
            ReissueOnStart(context, resolver.Codec.Issue(check.SessionId!), resolver.CookieName, secureCookie);
        }
    }

    /// <remarks>A method of its own: the closure would otherwise be allocated on every call of <see cref="Accept"/>.</remarks>
    private static void ReissueOnStart(HttpContext context, string token, string cookie, bool secureCookie) =>
        context.Response.OnStarting(() =>
        {
            SessionCookie.Append(context.Response, cookie, token, secureCookie);
            context.Response.Headers.CacheControl = SessionCookie.CacheControl;
            return Task.CompletedTask;
        });

    public static Task RefuseAsync(HttpContext context, GatewayMetrics metrics, string reason)
    {
        metrics.AuthFailed(reason);
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return ProblemResponse.WriteAsync(context, StatusCodes.Status401Unauthorized, DetailFor(reason), extensions: new Dictionary<string, object?> { ["reason"] = reason });
    }

    private static string DetailFor(string reason) => reason switch
    {
        AuthFailureReason.Missing => "This route needs a session: log in at POST /auth/login.",
        AuthFailureReason.Malformed => "The session token is malformed.",
        AuthFailureReason.BadSignature => "The session token's signature is not valid.",
        AuthFailureReason.Expired => "The session has expired.",
        AuthFailureReason.Revoked => "The session has been revoked.",
        _ => "The credentials were not accepted.",
    };
}

/// <summary>The session cookie: HttpOnly, SameSite=Lax, Path=/, Secure unless <c>session.secure_cookie: false</c>.</summary>
internal static class SessionCookie
{
    /// <summary>The <c>Cache-Control</c> of every response that sets the session cookie: no cache may keep it or serve it to another client.</summary>
    public const string CacheControl = "private, no-store";

    public static void Append(HttpResponse response, string name, string token, bool secure) =>
        response.Cookies.Append(name, token, Options(secure));

    public static void Delete(HttpResponse response, string name, bool secure) =>
        response.Cookies.Delete(name, Options(secure));

    private static CookieOptions Options(bool secure) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Lax,
        Secure = secure,
        Path = "/",
        IsEssential = true,
    };
}
