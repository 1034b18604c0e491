using Gateway.Edge.Routing;
using Gateway.Hosting.Configuration;

namespace Gateway.Edge.Observability;

/// <summary>Per-request facts that one feature fills in and others read (client address, matched route, session identity).</summary>
internal static class RequestContext
{
    private const string RouteKey = "gateway.route";
    private const string ConfigKey = "gateway.config";
    private const string ClientKey = "gateway.client";
    private const string UserIdKey = "gateway.user_id";
    private const string TierKey = "gateway.tier";

    /// <summary>The client address as resolved against <c>trusted_proxies</c>; the TCP peer until something resolves it.</summary>
    public static string ClientAddress(HttpContext context) =>
        context.Items[ClientKey] as string ?? context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    public static void SetClientAddress(HttpContext context, string address) => context.Items[ClientKey] = address;

    /// <summary>The gateway route a proxied request matched; null outside the proxy pipeline.</summary>
    public static RouteDefinition? Route(HttpContext context) => context.Items[RouteKey] as RouteDefinition;

    /// <summary>
    /// The route of a proxied request. Throws (an answer of 500, never a request let through unjudged) when the proxy
    /// pipeline's first step did not resolve it.
    /// </summary>
    public static RouteDefinition RequireRoute(HttpContext context) =>
        Route(context) ?? throw new InvalidOperationException("The proxied request has no resolved gateway route; refusing it.");

    /// <summary>The configuration revision <see cref="Route"/> was read from; null outside the proxy pipeline.</summary>
    public static GatewayConfig? Config(HttpContext context) => context.Items[ConfigKey] as GatewayConfig;

    /// <summary>
    /// Set once at the start of the proxy pipeline from the matched endpoint, so that the session check and the rate
    /// limiter of one request read the revision that endpoint was built from (a reload in between cannot mix two).
    /// </summary>
    public static void SetRoute(HttpContext context, GatewayRoute route)
    {
        context.Items[ConfigKey] = route.Config;
        context.Items[RouteKey] = route.Route;
    }

    /// <summary>The user id of the request's valid session, or null.</summary>
    public static string? UserId(HttpContext context) => context.Items[UserIdKey] as string;

    /// <summary>The tier of the request's valid session (selects <c>ratelimit.tiers</c>), or null.</summary>
    public static string? Tier(HttpContext context) => context.Items[TierKey] as string;

    /// <summary>Set by the session check once a request carries a valid session.</summary>
    public static void SetSession(HttpContext context, string userId, string? tier)
    {
        context.Items[UserIdKey] = userId;
        context.Items[TierKey] = tier;
    }
}
