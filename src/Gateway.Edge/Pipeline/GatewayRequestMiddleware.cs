using Gateway.Hosting.Configuration;

namespace Gateway.Edge.Pipeline;

/// <summary>
/// The first step of every request: resolves the client address against <c>trusted_proxies</c> once, before routing, and
/// sets the request's <see cref="GatewayRequestFeature"/>, so that every later step (rate limiting, login limiting, the
/// access log) sees the same client and configuration revision, on proxied routes and on the edge's own endpoints.
/// </summary>
internal sealed class GatewayRequestMiddleware(RequestDelegate next, GatewayConfigStore config)
{
    public Task InvokeAsync(HttpContext context)
    {
        var current = config.Current;
        var address = ClientAddressResolver.Resolve(context.Connection.RemoteIpAddress, context.Request.Headers["X-Forwarded-For"], current.TrustedProxies);
        context.Features.Set(new GatewayRequestFeature(address?.ToString() ?? GatewayRequestFeature.UnknownClient, current));
        return next(context);
    }
}
