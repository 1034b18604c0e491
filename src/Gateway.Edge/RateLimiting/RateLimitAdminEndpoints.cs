using Gateway.Hosting.Configuration;
using Gateway.Hosting.Http;

namespace Gateway.Edge.RateLimiting;

/// <summary><c>GET /admin/clients/{key}</c>: each policy's remaining tokens and reset for one client key (needs <c>ADMIN_TOKEN</c>).</summary>
internal static class RateLimitAdminEndpoints
{
    public static IEndpointConventionBuilder MapRateLimitAdmin(this IEndpointRouteBuilder endpoints, string? adminToken) =>
        endpoints.MapGet("/admin/clients/{key}", GetClientAsync)
            .AddEndpointFilter(new AdminTokenFilter(adminToken))
            .WithRouteLabel("admin")
            .OnListeners(Listeners.Management);

    private static async Task<IResult> GetClientAsync(string key, GrainRateLimiter limiter, GatewayConfigStore config, CancellationToken cancellationToken)
    {
        var clientKey = ClientKeys.Normalize(key);
        var current = config.Current;
        var policies = new List<object>();
        foreach (var (selected, route) in RateLimitPolicySelector.All(current))
        {
            var grant = await limiter.PeekAsync(selected.Name, selected.Policy, clientKey, cancellationToken);
            if (grant is null)
            {
                return ProblemResponse.Result(StatusCodes.Status503ServiceUnavailable, "The rate limiter is unavailable.");
            }

            policies.Add(new
            {
                policy = selected.Name,
                route,
                requests = selected.Policy.Requests,
                period_seconds = selected.Policy.Period.TotalSeconds,
                burst = selected.Policy.Burst,
                remaining = grant.Remaining,
                reset_seconds = TimeSpan.FromTicks(grant.WaitTicks).TotalSeconds,
                full_seconds = FullSeconds(selected.Policy, grant.Remaining, grant.WaitTicks),
            });
        }

        return Results.Json(new { key = clientKey, mode = current.RateLimit.Mode.ToString().ToLowerInvariant(), policies });
    }

    /// <summary>Seconds until the bucket is full again.</summary>
    private static double FullSeconds(RateLimitPolicy policy, long remaining, long waitTicks)
    {
        var rate = GrainRateLimiter.RateOf(policy);
        var missing = policy.Burst - remaining;
        return missing <= 0 ? 0 : TimeSpan.FromTicks(waitTicks + ((missing - 1) * rate.EmissionTicks)).TotalSeconds;
    }
}
