using Gateway.Edge.Pipeline;
using Gateway.Hosting.Http;
using Gateway.Hosting.Observability;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// In the proxy pipeline: picks the route's policy, asks the limiter, and either lets the
/// request through with the <c>RateLimit-Policy</c> and <c>RateLimit</c> headers or answers 429 (or 503 when the limiter
/// is unavailable and <c>on_backend_failure: closed</c>) as problem+json.
/// </summary>
internal sealed class RateLimitMiddleware(RequestDelegate next, IRateLimiter limiter, GatewayMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.GatewayRequest();
        var route = request.RequireRoute();
        var selected = RateLimitPolicySelector.Select(route, request.Session?.Identity.Tier, request.Config.RateLimit);
        if (selected is null)
        {
            await next(context);
            return;
        }

        var clientKey = request.UserId is { } userId ? ClientKeys.ForUser(userId) : ClientKeys.ForAddress(request.ClientAddress);
        var decision = await limiter.AcquireAsync(selected.Name, selected.Policy, clientKey, context.RequestAborted);
        RateLimitResponses.SetHeaders(context.Response, selected.Name, selected.Policy, decision);

        if (decision.Allowed)
        {
            // YARP appends the upstream's headers; an error answer of the proxy keeps ours as well.
            await next(context);
            return;
        }

        if (decision.BackendUnavailable)
        {
            await ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "The rate limiter is unavailable.");
            return;
        }

        await RateLimitResponses.WriteExceededAsync(context, metrics, route.Id, selected.Name, decision, $"Rate limit \"{selected.Name}\" exceeded.");
    }
}
