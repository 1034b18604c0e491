using System.Runtime.CompilerServices;
using Gateway.Edge.Pipeline;
using Gateway.Hosting.Http;
using Gateway.Hosting.Observability;
using Yarp.ReverseProxy.Model;

namespace Gateway.Edge.Observability;

/// <summary>
/// The edge's first step: settles the correlation id (as <see cref="CorrelationIdMiddleware"/> does), counts and times
/// every request (<c>gateway_requests_total</c>, <c>gateway_request_duration_seconds</c>) by route id, and writes one
/// access line per request; 5xx answers are logged at Error.
/// </summary>
internal sealed partial class RequestTelemetryMiddleware(RequestDelegate next, GatewayMetrics metrics, TimeProvider time, ILogger<RequestTelemetryMiddleware> logger)
{
    /// <summary>The <c>route</c> label of requests that matched no route.</summary>
    public const string UnmatchedRoute = "unmatched";

    /// <remarks>The async step's state comes from a pool (a request would otherwise allocate it once it waits on the upstream).</remarks>
    public Task InvokeAsync(HttpContext context) => RunAsync(context).AsTask();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RunAsync(HttpContext context)
    {
        // The correlation id's step, in this one async step around the request: every line written inside it, the access
        // line included, carries the id (a logging scope only when logging is on).
        var correlation = CorrelationIdMiddleware.Accept(context);
        using var scope = logger.IsEnabled(LogLevel.Critical) ? logger.BeginScope(correlation) : null;
        var started = time.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            // The endpoint is known only after routing, which runs inside next().
            if (context.GetEndpoint()?.Metadata.GetMetadata<RouteLabel>() is not { Counted: false })
            {
                Record(context, started);
            }
        }
    }

    private void Record(HttpContext context, long started)
    {
        var elapsed = time.GetElapsedTime(started);
        var route = RouteLabel(context);
        var status = context.Response.StatusCode;
        var method = context.Request.Method;
        metrics.RequestCompleted(route, method, status, elapsed.TotalSeconds);
        var request = context.GatewayRequest();
        var client = request.ClientAddress;
        var userId = request.UserId;
        var path = context.Request.Path.Value ?? "/";
        var durationMs = Math.Round(elapsed.TotalMilliseconds, 3);
        if (status >= 500)
        {
            LogAccessError(logger, method, path, route, status, durationMs, client, userId);
        }
        else
        {
            LogAccess(logger, method, path, route, status, durationMs, client, userId);
        }
    }

    /// <summary>The YARP route id, else the name of one of the edge's own endpoints, else <c>unmatched</c>.</summary>
    internal static string RouteLabel(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null)
        {
            return UnmatchedRoute;
        }

        return endpoint.Metadata.GetMetadata<RouteModel>()?.Config.RouteId
            ?? endpoint.Metadata.GetMetadata<RouteLabel>()?.Label
            ?? UnmatchedRoute;
    }

    [LoggerMessage(EventId = LogEvents.RequestCompleted, Level = LogLevel.Information, Message = "{Method} {Path} {Status} {DurationMs}ms route={Route} client={Client} user={UserId}")]
    private static partial void LogAccess(ILogger logger, string method, string path, string route, int status, double durationMs, string client, string? userId);

    [LoggerMessage(EventId = LogEvents.RequestFailed, Level = LogLevel.Error, Message = "{Method} {Path} {Status} {DurationMs}ms route={Route} client={Client} user={UserId}")]
    private static partial void LogAccessError(ILogger logger, string method, string path, string route, int status, double durationMs, string client, string? userId);
}
