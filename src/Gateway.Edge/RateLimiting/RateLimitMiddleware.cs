using Gateway.Edge.Pipeline;
using Gateway.Hosting.Http;
using Gateway.Hosting.Observability;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// In the proxy pipeline: picks the route's policy, asks the limiter, and either lets the
/// request through with the <c>RateLimit-Policy</c> and <c>RateLimit</c> headers or answers 429 (or 503 when the limiter
/// is unavailable and <c>on_backend_failure: closed</c>) as problem+json. A decision the limiter makes at once (a leased
/// token, a cached denial) passes the request on without an async step.
/// </summary>
internal sealed class RateLimitMiddleware(RequestDelegate next, IRateLimiter limiter, GatewayMetrics metrics)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GatewayRequest();
        var route = request.RequireRoute();
        if (RateLimitPolicySelector.Select(route, request.Session?.Identity.Tier, request.Config.RateLimit) is not { } selected)
        {
            return next(context);
        }

        var clientKey = request.UserId is { } userId ? ClientKeys.ForUser(userId) : ClientKeys.ForAddress(request.ClientAddress);
        var pending = limiter.AcquireAsync(selected.Name, selected.Policy, clientKey, context.RequestAborted);
        return pending.IsCompletedSuccessfully ? Decided(context, route.Id, selected, pending.Result) : DecideAsync(context, route.Id, selected, pending);
    }

    private async Task DecideAsync(HttpContext context, string routeId, SelectedPolicy selected, ValueTask<RateLimitDecision> pending) =>
        await Decided(context, routeId, selected, await pending);

    private Task Decided(HttpContext context, string routeId, SelectedPolicy selected, RateLimitDecision decision)
    {
        RateLimitResponses.SetHeaders(context.Response, selected.Name, selected.Policy, decision);
        if (decision.Allowed)
        {
            // YARP appends the upstream's headers; an error answer of the proxy keeps ours as well.
            return next(context);
        }

        if (decision.BackendUnavailable)
        {
            return ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "The rate limiter is unavailable.");
        }

        return RateLimitResponses.WriteExceededAsync(context, metrics, routeId, selected.Name, decision, $"Rate limit \"{selected.Name}\" exceeded.");
    }
}
