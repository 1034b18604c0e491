using System.Net;
using System.Net.Sockets;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// Client keys of the rate limiter: <c>user:&lt;id&gt;</c> for a session's user, <c>ip:&lt;address&gt;</c> otherwise. An IPv6
/// client is keyed by its /64 (<c>ip:2001:db8:1:2::/64</c>), the smallest network one subscriber usually gets, so that
/// walking through the addresses of one network does not reset the limit; IPv4 (also IPv4-mapped IPv6) by the address.
/// </summary>
internal static class ClientKeys
{
    public const string UserPrefix = "user:";
    public const string IpPrefix = "ip:";

    private const string Ipv6Suffix = "/64";

    /// <summary>The last key this thread made, and what it was made from: a connection's requests come from one client.</summary>
    [ThreadStatic]
    private static (string Prefix, string Value, string Key)? _last;

    public static string ForUser(string userId) => Cached(UserPrefix, userId);

    /// <summary>The key of a client address as resolved by the edge (<c>unknown</c> stays as it is).</summary>
    public static string ForAddress(string address) => Cached(IpPrefix, address);

    private static string Cached(string prefix, string value)
    {
        if (_last is { } last && ReferenceEquals(last.Prefix, prefix) && string.Equals(last.Value, value, StringComparison.Ordinal))
        {
            return last.Key;
        }

        var key = prefix + (ReferenceEquals(prefix, IpPrefix) ? AddressPart(value) : value);
        _last = (prefix, value, key);
        return key;
    }

    /// <summary>What an address is limited as: an IPv4 address itself, an IPv6 address its /64 network.</summary>
    public static string AddressPart(string address)
    {
        // IPv4 (the common case) has no colon: no parsing on the hot path.
        if (!address.Contains(':', StringComparison.Ordinal))
        {
            return address;
        }

        var text = address.EndsWith(Ipv6Suffix, StringComparison.Ordinal) ? address[..^Ipv6Suffix.Length] : address;
        return IPAddress.TryParse(text, out var parsed) ? AddressPart(parsed) : address;
    }

    /// <summary>What an address is limited as: an IPv4 address itself, an IPv6 address its /64 network.</summary>
    public static string AddressPart(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes) + Ipv6Suffix;
    }

    /// <summary>An operator's key as typed: already prefixed, else an IP address (or an IPv6 /64), else a user id.</summary>
    public static string Normalize(string key)
    {
        if (key.StartsWith(UserPrefix, StringComparison.Ordinal))
        {
            return key;
        }

        if (key.StartsWith(IpPrefix, StringComparison.Ordinal))
        {
            return ForAddress(key[IpPrefix.Length..]);
        }

        var address = key.Contains(':', StringComparison.Ordinal) && key.EndsWith(Ipv6Suffix, StringComparison.Ordinal) ? key[..^Ipv6Suffix.Length] : key;
        if (IPAddress.TryParse(address, out var parsed))
        {
            return IpPrefix + AddressPart(parsed);
        }

        return key.Contains(':', StringComparison.Ordinal) ? key : ForUser(key);
    }
}
