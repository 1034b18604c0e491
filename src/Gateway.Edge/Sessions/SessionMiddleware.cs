using Gateway.Edge.Pipeline;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Http;
using Gateway.Hosting.Observability;

namespace Gateway.Edge.Sessions;

/// <summary>
/// Runs in YARP's proxy pipeline: applies the route's <c>auth</c> mode. <c>none</c> does not look at sessions;
/// <c>optional</c> uses a valid session and ignores an invalid one; <c>required</c> answers 401 without a valid one.
/// </summary>
internal sealed partial class SessionMiddleware(
    RequestDelegate next,
    SessionResolver resolver,
    GatewayConfigStore config,
    GatewayMetrics metrics,
    ILogger<SessionMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var auth = context.GatewayRequest().RequireRoute().Auth;
        if (auth == AuthMode.None)
        {
            return next(context);
        }

        // A cached session (or a missing or bad credential) is known at once: no async step around the rest of the request.
        ValueTask<SessionCheck> pending;
        try
        {
            pending = resolver.CheckAsync(context);
        }
        catch (Exception ex)
        {
            pending = ValueTask.FromException<SessionCheck>(ex); // judged below as a failure of the session store
        }

        if (!pending.IsCompletedSuccessfully)
        {
            return CheckAndContinueAsync(context, auth, pending);
        }

        var check = pending.Result;
        if (check.IsValid)
        {
            SessionOutcome.Accept(context, check, resolver, config.Current.Session.SecureCookie);
        }
        else if (auth == AuthMode.Required)
        {
            return SessionOutcome.RefuseAsync(context, metrics, check.FailureReason!);
        }

        return next(context);
    }

    private async Task CheckAndContinueAsync(HttpContext context, AuthMode auth, ValueTask<SessionCheck> pending)
    {
        SessionCheck check;
        try
        {
            check = await pending;
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
        {
            LogSessionStoreFailed(logger, ex);
            if (auth == AuthMode.Required)
            {
                await ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Sessions cannot be checked right now.");
                return;
            }

            await next(context);
            return;
        }

        if (check.IsValid)
        {
            SessionOutcome.Accept(context, check, resolver, config.Current.Session.SecureCookie);
        }
        else if (auth == AuthMode.Required)
        {
            await SessionOutcome.RefuseAsync(context, metrics, check.FailureReason!);
            return;
        }

        await next(context);
    }

    [LoggerMessage(EventId = LogEvents.SessionStoreFailed, Level = LogLevel.Warning, Message = "Session check failed: the session grains did not answer")]
    private static partial void LogSessionStoreFailed(ILogger logger, Exception exception);
}
