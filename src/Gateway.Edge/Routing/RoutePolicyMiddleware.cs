using Gateway.Edge.Pipeline;
using Gateway.Hosting.Http;
using Microsoft.AspNetCore.Diagnostics;

namespace Gateway.Edge.Routing;

/// <summary>
/// The first step of YARP's proxy pipeline: takes the gateway policy (auth, limits) from the matched endpoint, which
/// YARP built from the same revision as its route. A proxied request whose policy cannot be found is refused with 500:
/// the gateway fails closed, never forwarding a request it cannot judge.
/// </summary>
internal sealed partial class RoutePolicyMiddleware(RequestDelegate next, ILogger<RoutePolicyMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<GatewayRoute>() is not { } route)
        {
            var routeId = context.GetReverseProxyFeature().Route.Config.RouteId;
            LogUnresolvedRoute(logger, routeId);
            return ProblemResponse.WriteAsync(context, StatusCodes.Status500InternalServerError, "The gateway could not resolve this route's policy.");
        }

        context.GatewayRequest().SetRoute(route);

        // The upstream's own error answers pass through untouched.
        if (context.Features.Get<IStatusCodePagesFeature>() is { } pages)
        {
            pages.Enabled = false;
        }

        return next(context);
    }

    [LoggerMessage(EventId = LogEvents.RoutePolicyUnresolved, Level = LogLevel.Error, Message = "Route {RouteId} has no gateway policy; the request is refused (fail closed)")]
    private static partial void LogUnresolvedRoute(ILogger logger, string routeId);
}
