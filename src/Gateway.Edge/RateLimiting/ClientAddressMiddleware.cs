using Gateway.Hosting.Configuration;
using RequestContext = Gateway.Edge.Observability.RequestContext;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// Resolves the client address against <c>trusted_proxies</c> once per request, before routing, so that every feature
/// (rate limiting, login limiting, the access log) sees the same client, on proxied routes and on the edge's own endpoints.
/// </summary>
internal sealed class ClientAddressMiddleware(RequestDelegate next, GatewayConfigStore config)
{
    public Task InvokeAsync(HttpContext context)
    {
        var address = ClientAddressResolver.Resolve(context.Connection.RemoteIpAddress, context.Request.Headers["X-Forwarded-For"], config.Current.TrustedProxies);
        RequestContext.SetClientAddress(context, address?.ToString() ?? "unknown");
        return next(context);
    }
}
