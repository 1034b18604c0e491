using Gateway.Hosting.Configuration;

namespace Gateway.Edge.RateLimiting;

/// <summary>A policy in force for one request: its name (header value, metric label, bucket identity) and its numbers.</summary>
internal readonly record struct SelectedPolicy(string Name, RateLimitPolicy Policy);

/// <summary>The contract's choice: the route's own policy (counted per route), else the session tier's, else <c>default</c>.</summary>
internal static class RateLimitPolicySelector
{
    public const string DefaultPolicyName = "default";

    /// <summary>Null when the route says <c>ratelimit: off</c>.</summary>
    public static SelectedPolicy? Select(RouteDefinition route, string? tier, RateLimitConfig config)
    {
        switch (route.RateLimit.Kind)
        {
            case RouteRateLimitKind.Off:
                return null;
            case RouteRateLimitKind.Own when route.RateLimit.Policy is { } own:
                // The route id names the policy, so its buckets are separate from every other route's.
                return new SelectedPolicy(route.Id, own);
            default:
                if (tier is not null && config.Tiers.TryGetValue(tier, out var tierPolicy))
                {
                    return new SelectedPolicy(tier, tierPolicy);
                }

                return new SelectedPolicy(DefaultPolicyName, config.Default);
        }
    }

    /// <summary>Every policy a client can be counted under, for the admin view.</summary>
    public static IEnumerable<(SelectedPolicy Policy, string? Route)> All(GatewayConfig config)
    {
        yield return (new SelectedPolicy(DefaultPolicyName, config.RateLimit.Default), null);
        foreach (var (name, policy) in config.RateLimit.Tiers.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            yield return (new SelectedPolicy(name, policy), null);
        }

        foreach (var route in config.Routes)
        {
            if (route.RateLimit is { Kind: RouteRateLimitKind.Own, Policy: { } own })
            {
                yield return (new SelectedPolicy(route.Id, own), route.Id);
            }
        }
    }
}
