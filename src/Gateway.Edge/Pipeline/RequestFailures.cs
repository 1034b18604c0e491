using Gateway.Hosting.Http;

namespace Gateway.Edge.Pipeline;

/// <summary>
/// The edge's exception handler, called from the telemetry step (no async step of its own on the success path): what
/// ASP.NET Core's exception handler middleware did for the edge, with the gateway's problem answers. A failure after
/// the client went away is not an error (499, not logged); a cancellation caused by the route's timeout is the
/// contract's 504; anything else is logged at Error with its exception and answered 500 problem+json (with the request's
/// <c>correlation_id</c>). A failure after the response started is left to the server, which aborts the response.
/// </summary>
internal static partial class RequestFailures
{
    public static Task AnswerAsync(HttpContext context, Exception exception, ILogger logger)
    {
        if (exception is OperationCanceledException && RequestTimeouts.TimedOut(context))
        {
            context.Response.Clear();
            return ProblemResponse.WriteAsync(context, StatusCodes.Status504GatewayTimeout, "The request did not complete within its route's timeout.");
        }

        if (exception is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
            return Task.CompletedTask;
        }

        LogUnhandled(logger, exception);
        context.Response.Clear();
        return ProblemResponse.WriteAsync(context, StatusCodes.Status500InternalServerError, "The gateway failed to handle the request.");
    }

    [LoggerMessage(EventId = LogEvents.UnhandledException, Level = LogLevel.Error, Message = "An unhandled exception has occurred while executing the request")]
    private static partial void LogUnhandled(ILogger logger, Exception exception);
}
