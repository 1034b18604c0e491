using System.Globalization;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Http;
using Gateway.Hosting.Observability;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// How every limited answer of the edge looks, on proxied routes and on login alike: the <c>RateLimit-Policy</c> and
/// <c>RateLimit</c> headers, and a denial as <c>429</c> with <c>Retry-After</c> in whole seconds rounded up.
/// </summary>
internal static class RateLimitResponses
{
    /// <summary>Sets the policy header, and the state header when the grains decided.</summary>
    public static void SetHeaders(HttpResponse response, string policyName, RateLimitPolicy policy, RateLimitDecision decision)
    {
        var headers = response.Headers;
        headers[RateLimitHeaders.Policy] = RateLimitHeaders.PolicyHeader(policyName, policy);
        if (!decision.BackendUnavailable)
        {
            headers[RateLimitHeaders.State] = RateLimitHeaders.FormatState(policyName, decision.Remaining, decision.RetryAfter);
        }
    }

    /// <summary>Counts the rejection and writes the 429 problem (the headers are already set).</summary>
    public static Task WriteExceededAsync(HttpContext context, GatewayMetrics metrics, string route, string policyName, RateLimitDecision decision, string detail, IReadOnlyDictionary<string, object?>? extensions = null)
    {
        metrics.RateLimitExceeded(route, policyName);
        context.Response.Headers.RetryAfter = Math.Max(1, RateLimitHeaders.CeilingSeconds(decision.RetryAfter)).ToString(CultureInfo.InvariantCulture);
        return ProblemResponse.WriteAsync(context, StatusCodes.Status429TooManyRequests, detail, extensions: extensions);
    }
}
