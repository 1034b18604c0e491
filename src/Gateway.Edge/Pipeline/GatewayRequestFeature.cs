using Gateway.Edge.Routing;
using Gateway.Edge.Sessions;
using Gateway.Hosting.Configuration;

namespace Gateway.Edge.Pipeline;

/// <summary>
/// What the edge knows of one request, in one typed place: the client address, the configuration revision, the matched
/// route's policy and the valid session. Set by <see cref="GatewayRequestMiddleware"/> first; the proxy pipeline's first
/// step adds the route, the session check the session; everything else reads it.
/// </summary>
internal sealed class GatewayRequestFeature(string clientAddress, GatewayConfig config)
{
    /// <summary>The client address of a request whose TCP peer is not known (not on a socket).</summary>
    public const string UnknownClient = "unknown";

    /// <summary>The client address as resolved against <c>trusted_proxies</c>.</summary>
    public string ClientAddress { get; } = clientAddress;

    /// <summary>The revision the request is judged by: the one in force when it arrived, then its matched route's.</summary>
    public GatewayConfig Config { get; private set; } = config;

    /// <summary>The gateway route a proxied request matched; null outside the proxy pipeline.</summary>
    public RouteDefinition? Route { get; private set; }

    /// <summary>The request's valid session, once the session check (or a login) accepted one.</summary>
    public SessionFeature? Session { get; set; }

    /// <summary>When the upstream call of a proxied request started (a <see cref="TimeProvider"/> timestamp); 0 before.</summary>
    public long UpstreamStarted { get; set; }

    /// <summary>The user id of <see cref="Session"/>, or null.</summary>
    public string? UserId => Session?.Identity.UserId;

    /// <summary>
    /// The route of a proxied request. Throws (an answer of 500, never a request let through unjudged) when the proxy
    /// pipeline's first step did not resolve it.
    /// </summary>
    public RouteDefinition RequireRoute() =>
        Route ?? throw new InvalidOperationException("The proxied request has no resolved gateway route; refusing it.");

    /// <summary>Set from the matched endpoint, so that the session check and the rate limiter read the revision it was built from.</summary>
    public void SetRoute(GatewayRoute route)
    {
        ArgumentNullException.ThrowIfNull(route);
        Route = route.Route;
        Config = route.Config;
    }
}

/// <summary>Access to the request's <see cref="GatewayRequestFeature"/>.</summary>
internal static class GatewayRequestExtensions
{
    /// <summary>The request's feature; requests that did not pass the edge's first step (tests of one component) get one for their peer.</summary>
    public static GatewayRequestFeature GatewayRequest(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var feature = context.Features.Get<GatewayRequestFeature>();
        if (feature is null)
        {
            var config = context.RequestServices.GetRequiredService<GatewayConfigStore>().Current;
            feature = new GatewayRequestFeature(context.Connection.RemoteIpAddress?.ToString() ?? GatewayRequestFeature.UnknownClient, config);
            context.Features.Set(feature);
        }

        return feature;
    }
}
