using System.Collections.Immutable;
using System.Net;
using Gateway.Edge.Pipeline;
using Gateway.Hosting.Http;

namespace Gateway.Edge.AccessControl;

/// <summary>
/// A route's <c>allow</c> and <c>deny</c> lists on the client address (the one resolved against <c>trusted_proxies</c>):
/// an address in <c>deny</c>, or outside a non-empty <c>allow</c>, gets 403 problem+json before any session or limit is
/// looked at and before anything reaches the upstream. An unknown client address is refused whenever a list is set.
/// </summary>
internal sealed class ClientIpAccessMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GatewayRequest();
        var features = request.RequireRoute().Features;
        if (features.Allow.IsDefaultOrEmpty && features.Deny.IsDefaultOrEmpty)
        {
            return next(context);
        }

        return IsAllowed(request.ClientAddress, features.Allow, features.Deny)
            ? next(context)
            : ProblemResponse.WriteAsync(context, StatusCodes.Status403Forbidden, "The client address is not allowed on this route.");
    }

    internal static bool IsAllowed(string clientAddress, ImmutableArray<IPNetwork> allow, ImmutableArray<IPNetwork> deny)
    {
        if (!IPAddress.TryParse(clientAddress, out var address))
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var network in deny.IsDefault ? [] : deny)
        {
            if (network.Contains(address))
            {
                return false;
            }
        }

        if (allow.IsDefaultOrEmpty)
        {
            return true;
        }

        foreach (var network in allow)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}
