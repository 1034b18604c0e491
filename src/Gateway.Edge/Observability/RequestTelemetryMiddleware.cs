using System.Runtime.CompilerServices;
using Gateway.Edge.Pipeline;
using Gateway.Edge.Routing;
using Gateway.Hosting.Http;
using Gateway.Hosting.Observability;
using Yarp.ReverseProxy.Model;

namespace Gateway.Edge.Observability;

/// <summary>
/// The edge's first step: settles the correlation id (as <see cref="CorrelationIdMiddleware"/> does), counts and times
/// every request (<c>gateway_requests_total</c>, <c>gateway_request_duration_seconds</c>) by route id, and writes one
/// access line per request; 5xx answers are logged at Error. In the same async step: the exception handler (a failure
/// is logged with its exception and answered 500 problem+json, a route timeout that surfaced as a cancellation 504) and
/// the end of the route's <see cref="RequestTimeouts"/>, and what follows a proxied request's upstream call
/// (<see cref="UpstreamOutcomes"/>).
/// </summary>
internal sealed partial class RequestTelemetryMiddleware(RequestDelegate next, GatewayMetrics metrics, TimeProvider time, RequestTimeouts timeouts, UpstreamOutcomes upstreams, ILogger<RequestTelemetryMiddleware> logger, ILoggerFactory loggers)
{
    /// <summary>The <c>route</c> label of requests that matched no route.</summary>
    public const string UnmatchedRoute = "unmatched";

    private static readonly EventId Completed = new(LogEvents.RequestCompleted, "LogAccess");
    private static readonly EventId Failed = new(LogEvents.RequestFailed, "LogAccessError");

    /// <summary>Failures are logged in their own category: the middleware's is the access log's.</summary>
    private readonly ILogger _failures = loggers.CreateLogger(typeof(RequestFailures));

    /// <remarks>The async step's state comes from a pool (a request would otherwise allocate it once it waits on the upstream).</remarks>
    public Task InvokeAsync(HttpContext context) => RunAsync(context).AsTask();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RunAsync(HttpContext context)
    {
        // The correlation id's step, in this one async step around the request: every line written inside it, the access
        // line included, carries the id (made current only when logging is on; undone when this async step returns).
        var correlation = CorrelationIdMiddleware.Accept(context);
        if (logger.IsEnabled(LogLevel.Critical))
        {
            CorrelationId.EnterLogContext(correlation);
        }

        var started = time.GetTimestamp();
        try
        {
            await next(context);
            await upstreams.CompleteAsync(context); // completed at once unless an upstream failure is answered
        }
        catch (Exception exception) when (!context.Response.HasStarted)
        {
            await RequestFailures.AnswerAsync(context, exception, _failures);
        }
        finally
        {
            timeouts.End(context);

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
        var level = status >= 500 ? LogLevel.Error : LogLevel.Information;
        if (logger.IsEnabled(level))
        {
            var request = context.GatewayRequest();
            var line = new AccessLine(method, context.Request.Path.Value ?? "/", route, status, Math.Round(elapsed.TotalMilliseconds, 3), request.ClientAddress, request.UserId);
            logger.Log(level, status >= 500 ? Failed : Completed, line, null, AccessLine.Format);
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
}
