using System.Collections.Immutable;
using System.Net;
using Microsoft.Extensions.Primitives;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// The client address of the contract: the TCP peer, unless the peer is inside <c>trusted_proxies</c>; then the right-most
/// <c>X-Forwarded-For</c> address that is not itself trusted. Nothing is trusted by default, loopback included
/// (unlike ASP.NET Core's forwarded-headers defaults, which are deliberately not used).
/// </summary>
internal static class ClientAddressResolver
{
    public static IPAddress? Resolve(IPAddress? peer, StringValues forwardedFor, ImmutableArray<IPNetwork> trusted)
    {
        if (peer is null)
        {
            return null;
        }

        var current = Normalize(peer);
        if (!IsTrusted(current, trusted))
        {
            return current;
        }

        // Walk the hops right to left: each trusted hop vouches for the one before it.
        for (var v = forwardedFor.Count - 1; v >= 0; v--)
        {
            var header = forwardedFor[v].AsSpan();
            while (header.Length > 0)
            {
                var comma = header.LastIndexOf(',');
                var item = (comma < 0 ? header : header[(comma + 1)..]).Trim();
                header = comma < 0 ? [] : header[..comma];
                if (item.IsEmpty)
                {
                    continue;
                }

                if (!TryParseHop(item, out var hop))
                {
                    // Garbage in the chain: the last address we could vouch for is the client.
                    return current;
                }

                current = hop;
                if (!IsTrusted(current, trusted))
                {
                    return current;
                }
            }
        }

        return current;
    }

    private static bool IsTrusted(IPAddress address, ImmutableArray<IPNetwork> trusted)
    {
        foreach (var network in trusted)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryParseHop(ReadOnlySpan<char> item, out IPAddress address)
    {
        // Accept "1.2.3.4", "2001:db8::1", "[2001:db8::1]" and "[2001:db8::1]:443" / "1.2.3.4:443".
        if (IPAddress.TryParse(item, out var parsed) || IPEndPoint.TryParse(item, out var endpoint) && (parsed = endpoint.Address) is not null)
        {
            address = Normalize(parsed);
            return true;
        }

        address = IPAddress.None;
        return false;
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
