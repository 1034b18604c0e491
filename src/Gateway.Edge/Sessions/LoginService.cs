using Gateway.Edge.Pipeline;
using Gateway.Edge.Routing;
using Gateway.Grains.Contracts;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Http;
using Gateway.Hosting.Observability;

namespace Gateway.Edge.Sessions;

/// <summary>
/// <c>POST /auth/login</c>: a JSON body only, limited per client IP, per (user name, IP) and per user name (failing
/// closed), checked by the identity upstream (<c>session.login</c>), then a new session with a signed token and cookie.
/// Upstream failures and limits answer exactly as they do on proxied routes.
/// </summary>
internal sealed partial class LoginService(
    GatewayConfigStore config,
    LoginUpstream upstream,
    LoginRateLimits limits,
    SessionResolver resolver,
    IGrainFactory grains,
    GatewayMetrics metrics,
    ILogger<LoginService> logger)
{
    /// <summary>The largest login body accepted.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    /// <summary>Answers one login attempt.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var current = config.Current;
        if (current.Session.Login is not { } login || !current.Upstreams.TryGetValue(login.Upstream, out var identityUpstream))
        {
            await ProblemResponse.WriteAsync(context, StatusCodes.Status404NotFound, "Login is not configured (session.login).");
            return;
        }

        // Only JSON: a cross-site HTML form can post urlencoded, multipart or text/plain bodies, never application/json.
        if (!IsJson(context.Request.ContentType))
        {
            await ProblemResponse.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "The login body must be application/json.");
            return;
        }

        if (context.Request.ContentLength > MaxBodyBytes)
        {
            await ProblemResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge);
            return;
        }

        var body = await ReadBodyAsync(context.Request, MaxBodyBytes, context.RequestAborted);
        if (body is null)
        {
            await ProblemResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge);
            return;
        }

        if (!await limits.AdmitAsync(context, body.Value))
        {
            return;
        }

        var result = await upstream.VerifyAsync(identityUpstream, login.Path, body.Value, context.Request.ContentType, context);
        switch (result.Outcome)
        {
            case LoginOutcome.Unreachable:
                metrics.UpstreamError(identityUpstream.Name, "unreachable");
                await UpstreamProblem.WriteAsync(context, StatusCodes.Status502BadGateway, identityUpstream.Name, "unreachable");
                return;
            case LoginOutcome.TimedOut:
                metrics.UpstreamError(identityUpstream.Name, "timeout");
                await UpstreamProblem.WriteAsync(context, StatusCodes.Status504GatewayTimeout, identityUpstream.Name, "timeout");
                return;
            case LoginOutcome.Rejected:
                await SessionOutcome.RefuseAsync(context, metrics, AuthFailureReason.InvalidCredentials);
                return;
        }

        // A new id on every login: a session id planted before login (fixation) is never promoted.
        var identity = result.Identity!;
        var sessionId = SessionTokenCodec.NewSessionId();
        SessionSnapshot session;
        try
        {
            session = await grains.GetGrain<ISessionGrain>(sessionId).CreateAsync(identity, current.Session.Ttl, current.Session.MaxLifetime);
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
        {
            // The session grains or their store (Redis) are out of reach: a clear, retryable answer, not a 500.
            LogSessionCreateFailed(logger, ex);
            await ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Sessions cannot be created right now; try again later.");
            return;
        }

        var token = resolver.Codec.Issue(sessionId);
        context.GatewayRequest().Session = new SessionFeature(sessionId, session);
        SessionCookie.Append(context.Response, current.Session.Cookie, token, current.Session.SecureCookie);
        context.Response.Headers.CacheControl = SessionCookie.CacheControl;
        await context.Response.WriteAsJsonAsync(new LoginAnswer(token, identity.UserId, SessionEndpoints.Timestamp(session.ExpiresAt)), context.RequestAborted);
    }

    /// <summary><c>application/json</c> or <c>application/*+json</c>, with any parameters (charset).</summary>
    internal static bool IsJson(string? contentType) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var type)
        && type.Type.Equals("application", StringComparison.OrdinalIgnoreCase)
        && (type.SubType.Equals("json", StringComparison.OrdinalIgnoreCase) || type.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase));

    /// <summary>The body, or null when it is longer than <paramref name="limit"/>.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private sealed record LoginAnswer(
        [property: System.Text.Json.Serialization.JsonPropertyName("token")] string Token,
        [property: System.Text.Json.Serialization.JsonPropertyName("user_id")] string UserId,
        [property: System.Text.Json.Serialization.JsonPropertyName("expires_at")] string ExpiresAt);

    [LoggerMessage(EventId = LogEvents.SessionCreateFailed, Level = LogLevel.Error, Message = "Login failed: the session could not be created")]
    private static partial void LogSessionCreateFailed(ILogger logger, Exception exception);
}
