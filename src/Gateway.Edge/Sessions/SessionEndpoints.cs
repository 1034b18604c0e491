using System.Collections.Immutable;
using System.Globalization;
using Gateway.Grains.Contracts;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Http;
using Gateway.Hosting.Observability;

namespace Gateway.Edge.Sessions;

/// <summary><c>POST /auth/login</c>, <c>POST /auth/logout</c>, <c>GET /auth/session</c> and <c>DELETE /admin/users/{id}/sessions</c>.</summary>
internal static partial class SessionEndpoints
{
    /// <summary>The largest login body accepted.</summary>
    public const int MaxLoginBodyBytes = 16 * 1024;

    public static void MapSessionEndpoints(this IEndpointRouteBuilder app, string? adminToken)
    {
        app.MapPost("/auth/login", LoginAsync).WithRouteLabel(LoginRateLimits.RouteLabel);
        app.MapPost("/auth/logout", LogoutAsync).WithRouteLabel("auth_logout");
        app.MapGet("/auth/session", DescribeAsync).WithRouteLabel("auth_session");
        app.MapDelete("/admin/users/{id}/sessions", RevokeUserAsync)
            .AddEndpointFilter(new AdminTokenFilter(adminToken))
            .WithRouteLabel("admin")
            .OnListeners(Listeners.Management);
    }

    private static async Task LoginAsync(HttpContext context, GatewayConfigStore config, LoginUpstream upstream, SessionResolver resolver, IGrainFactory grains, GatewayMetrics metrics)
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

        if (context.Request.ContentLength > MaxLoginBodyBytes)
        {
            await ProblemResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge);
            return;
        }

        var body = await ReadBodyAsync(context.Request, MaxLoginBodyBytes, context.RequestAborted);
        if (body is null)
        {
            await ProblemResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge);
            return;
        }

        if (!await LoginRateLimits.AdmitAsync(context, body.Value))
        {
            return;
        }

        var result = await upstream.VerifyAsync(identityUpstream, login.Path, body.Value, context.Request.ContentType, context);
        switch (result.Outcome)
        {
            case LoginOutcome.Unreachable:
                metrics.UpstreamError(identityUpstream.Name, "unreachable");
                await ProblemResponse.WriteAsync(context, StatusCodes.Status502BadGateway, $"Upstream '{identityUpstream.Name}' could not be reached.");
                return;
            case LoginOutcome.TimedOut:
                metrics.UpstreamError(identityUpstream.Name, "timeout");
                await ProblemResponse.WriteAsync(context, StatusCodes.Status504GatewayTimeout, $"Upstream '{identityUpstream.Name}' did not answer in time.");
                return;
            case LoginOutcome.Rejected:
                await SessionOutcome.RefuseAsync(context, metrics, AuthFailureReason.InvalidCredentials);
                return;
        }

        // A new id on every login: a session id planted before login (fixation) is never promoted.
        var identity = result.Identity!;
        var sessionId = SessionTokenCodec.NewSessionId();
        var session = await grains.GetGrain<ISessionGrain>(sessionId).CreateAsync(identity, current.Session.Ttl, current.Session.MaxLifetime);
        var token = resolver.Codec.Issue(sessionId);
        Observability.RequestContext.SetSession(context, identity.UserId, identity.Tier);
        SessionCookie.Append(context.Response, current.Session.Cookie, token, current.Session.SecureCookie);
        context.Response.Headers.CacheControl = SessionCookie.CacheControl;
        await context.Response.WriteAsJsonAsync(new LoginAnswer(token, identity.UserId, Timestamp(session.ExpiresAt)), context.RequestAborted);
    }

    private static async Task LogoutAsync(HttpContext context, SessionResolver resolver, IGrainFactory grains, GatewayConfigStore config, GatewayMetrics metrics)
    {
        var check = resolver.VerifyToken(context, out var verified);
        if (check.FailureReason is { } reason)
        {
            await SessionOutcome.RefuseAsync(context, metrics, reason);
            return;
        }

        // Logging out of a session that has already ended still ends it: idempotent.
        await grains.GetGrain<ISessionGrain>(verified.SessionId).RevokeAsync();
        resolver.Cache.Remove(verified.SessionId);
        var session = config.Current.Session;
        SessionCookie.Delete(context.Response, session.Cookie, session.SecureCookie);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task DescribeAsync(HttpContext context, SessionResolver resolver, GatewayConfigStore config, GatewayMetrics metrics)
    {
        var check = await resolver.CheckAsync(context);
        if (!check.IsValid)
        {
            await SessionOutcome.RefuseAsync(context, metrics, check.FailureReason!);
            return;
        }

        SessionOutcome.Accept(context, check, resolver, config.Current.Session.SecureCookie);
        var identity = check.Session!.Identity;
        context.Response.Headers.CacheControl = SessionCookie.CacheControl;
        await context.Response.WriteAsJsonAsync(
            new SessionAnswer(identity.UserId, identity.Tier, identity.Roles.IsDefault ? [] : identity.Roles, Timestamp(check.Session.ExpiresAt)),
            context.RequestAborted);
    }

    private static async Task RevokeUserAsync(HttpContext context, string id, IGrainFactory grains, SessionResolver resolver, ILogger<SessionResolver> logger)
    {
        var index = grains.GetGrain<IUserSessionsGrain>(id);
        var sessions = await index.ListAsync();
        await Task.WhenAll(sessions.Select(sessionId => grains.GetGrain<ISessionGrain>(sessionId).RevokeAsync()));
        await index.ForgetAsync(sessions);
        resolver.Cache.RemoveUser(id);
        LogUserRevoked(logger, sessions.Length);
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsJsonAsync(new RevokeAnswer(id, sessions.Length), context.RequestAborted);
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

    private static string Timestamp(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = LogEvents.UserSessionsRevoked, Level = LogLevel.Information, Message = "An operator revoked every session of a user ({Count} sessions)")]
    private static partial void LogUserRevoked(ILogger logger, int count);

    private sealed record LoginAnswer(
        [property: System.Text.Json.Serialization.JsonPropertyName("token")] string Token,
        [property: System.Text.Json.Serialization.JsonPropertyName("user_id")] string UserId,
        [property: System.Text.Json.Serialization.JsonPropertyName("expires_at")] string ExpiresAt);

    private sealed record SessionAnswer(
        [property: System.Text.Json.Serialization.JsonPropertyName("user_id")] string UserId,
        [property: System.Text.Json.Serialization.JsonPropertyName("tier")] string? Tier,
        [property: System.Text.Json.Serialization.JsonPropertyName("roles")] ImmutableArray<string> Roles,
        [property: System.Text.Json.Serialization.JsonPropertyName("expires_at")] string ExpiresAt);

    private sealed record RevokeAnswer(
        [property: System.Text.Json.Serialization.JsonPropertyName("user_id")] string UserId,
        [property: System.Text.Json.Serialization.JsonPropertyName("revoked")] int Revoked);
}
