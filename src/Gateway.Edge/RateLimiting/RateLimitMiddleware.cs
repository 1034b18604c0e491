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
        var headers = context.Response.Headers;
        headers[RateLimitHeaders.Policy] = RateLimitHeaders.FormatPolicy(selected.Name, selected.Policy);
        if (!decision.BackendUnavailable)
        {
            headers[RateLimitHeaders.State] = RateLimitHeaders.FormatState(selected.Name, decision.Remaining, decision.RetryAfter);
        }

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

        metrics.RateLimitExceeded(route.Id, selected.Name);
        headers.RetryAfter = Math.Max(1, RateLimitHeaders.CeilingSeconds(decision.RetryAfter)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await ProblemResponse.WriteAsync(context, StatusCodes.Status429TooManyRequests, $"Rate limit \"{selected.Name}\" exceeded.");
    }
}
