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

    private static Task LoginAsync(HttpContext context, LoginService login) => login.HandleAsync(context);

    private static async Task LogoutAsync(
        HttpContext context, SessionResolver resolver, IGrainFactory grains, GatewayConfigStore config, GatewayMetrics metrics, ILogger<SessionResolver> logger)
    {
        var check = resolver.VerifyToken(context, out var verified);
        if (check.FailureReason is { } reason)
        {
            await SessionOutcome.RefuseAsync(context, metrics, reason);
            return;
        }

        // Logging out of a session that has already ended still ends it: idempotent.
        try
        {
            await grains.GetGrain<ISessionGrain>(verified.SessionId).RevokeAsync();
        }
        catch (Exception ex) when (SessionAnswers.IsUnanswered(ex))
        {
            // Not revoked: the client is told to try again, and this edge stops serving the session from its last answer.
            resolver.Cache.Remove(verified.SessionId);
            LogLogoutFailed(logger, ex);
            await ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "The session cannot be revoked right now; try again later.");
            return;
        }

        resolver.Cache.Remove(verified.SessionId);
        var session = config.Current.Session;
        SessionCookie.Delete(context.Response, session.Cookie, session.SecureCookie);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task DescribeAsync(HttpContext context, SessionResolver resolver, GatewayConfigStore config, GatewayMetrics metrics)
    {
        SessionCheck check;
        try
        {
            check = await resolver.CheckAsync(context);
        }
        catch (Exception ex) when (SessionAnswers.IsUnanswered(ex))
        {
            await ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Sessions cannot be checked right now.");
            return;
        }

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

    internal static string Timestamp(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = LogEvents.SessionLogoutFailed, Level = LogLevel.Warning, Message = "Logout failed: the session grain did not answer; the session is not revoked")]
    private static partial void LogLogoutFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = LogEvents.UserSessionsRevoked, Level = LogLevel.Information, Message = "An operator revoked every session of a user ({Count} sessions)")]
    private static partial void LogUserRevoked(ILogger logger, int count);

    private sealed record SessionAnswer(
        [property: System.Text.Json.Serialization.JsonPropertyName("user_id")] string UserId,
        [property: System.Text.Json.Serialization.JsonPropertyName("tier")] string? Tier,
        [property: System.Text.Json.Serialization.JsonPropertyName("roles")] ImmutableArray<string> Roles,
        [property: System.Text.Json.Serialization.JsonPropertyName("expires_at")] string ExpiresAt);

    private sealed record RevokeAnswer(
        [property: System.Text.Json.Serialization.JsonPropertyName("user_id")] string UserId,
        [property: System.Text.Json.Serialization.JsonPropertyName("revoked")] int Revoked);
}
