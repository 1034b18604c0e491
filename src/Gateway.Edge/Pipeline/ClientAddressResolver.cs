using System.Collections.Immutable;
using System.Net;
using Microsoft.Extensions.Primitives;

namespace Gateway.Edge.Pipeline;

/// <summary>
/// The client address of the contract: the TCP peer, unless the peer is inside <c>trusted_proxies</c>; then the right-most
/// <c>X-Forwarded-For</c> address that is not itself trusted. Nothing is trusted by default, loopback included
/// (unlike ASP.NET Core's forwarded-headers defaults, which are deliberately not used).
/// </summary>
internal static class ClientAddressResolver
{
    public static IPAddress? Resolve(IPAddress? peer, StringValues forwardedFor, ImmutableArray<IPNetwork> trusted) =>
        Walk(peer, forwardedFor, trusted, hops: null);

    /// <summary>
    /// The <c>X-Forwarded-For</c> the gateway sends upstream: the resolved client, then the trusted hops that vouched for it,
    /// then the TCP peer (<c>client, proxy1, peer</c>). What the client wrote left of the resolved address is dropped, so
    /// with no trusted proxies this is the peer alone. Null when there is no peer address.
    /// </summary>
    public static string? ForwardedFor(IPAddress? peer, StringValues forwardedFor, ImmutableArray<IPNetwork> trusted)
    {
        if (peer is not null && (trusted.IsDefaultOrEmpty || forwardedFor.Count == 0))
        {
            return Normalize(peer).ToString(); // the common case, without the list
        }

        var hops = new List<IPAddress>(4);
        if (Walk(peer, forwardedFor, trusted, hops) is null)
        {
            return null;
        }

        hops.Reverse();
        return string.Join(", ", hops);
    }

    /// <summary>Walks the chain right to left from the peer; every address accepted on the way is added to <paramref name="hops"/>.</summary>
    private static IPAddress? Walk(IPAddress? peer, StringValues forwardedFor, ImmutableArray<IPNetwork> trusted, List<IPAddress>? hops)
    {
        if (peer is null)
        {
            return null;
        }

        var current = Normalize(peer);
        hops?.Add(current);
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
                hops?.Add(current);
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
