using System.Net;
using Gateway.Hosting.Configuration;

namespace Gateway.Edge.Pipeline;

/// <summary>
/// The first step of every request: resolves the client address against <c>trusted_proxies</c> once, before routing, and
/// sets the request's <see cref="GatewayRequestFeature"/>, so that every later step (rate limiting, login limiting, the
/// access log) sees the same client and configuration revision, on proxied routes and on the edge's own endpoints.
/// </summary>
internal sealed class GatewayRequestMiddleware(RequestDelegate next, GatewayConfigStore config)
{
    /// <summary>The last address this thread wrote out, and its text: the requests of a connection come from one peer.</summary>
    [ThreadStatic]
    private static (IPAddress Address, string Text)? _lastAddress;

    public Task InvokeAsync(HttpContext context)
    {
        var current = config.Current;
        var address = ClientAddressResolver.Resolve(context.Connection.RemoteIpAddress, context.Request.Headers["X-Forwarded-For"], current.TrustedProxies);
        context.Features.Set(new GatewayRequestFeature(address is null ? GatewayRequestFeature.UnknownClient : Text(address), current));
        return next(context);
    }

    /// <summary>The address as text, without a new string when it is the one this thread wrote last.</summary>
    internal static string Text(IPAddress address)
    {
        if (_lastAddress is { } last && last.Address.Equals(address))
        {
            return last.Text;
        }

        var text = address.ToString();
        _lastAddress = (address, text);
        return text;
    }
}
