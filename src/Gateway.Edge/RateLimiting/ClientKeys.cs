using System.Net;

namespace Gateway.Edge.RateLimiting;

/// <summary>Client keys of the rate limiter: <c>user:&lt;id&gt;</c> for a session's user, <c>ip:&lt;address&gt;</c> otherwise.</summary>
internal static class ClientKeys
{
    public const string UserPrefix = "user:";
    public const string IpPrefix = "ip:";

    public static string ForUser(string userId) => UserPrefix + userId;

    public static string ForAddress(string address) => IpPrefix + address;

    /// <summary>An operator's key as typed: already prefixed, else an IP address, else a user id.</summary>
    public static string Normalize(string key)
    {
        if (key.StartsWith(UserPrefix, StringComparison.Ordinal) || key.StartsWith(IpPrefix, StringComparison.Ordinal))
        {
            return key;
        }

        if (IPAddress.TryParse(key, out var address))
        {
            return ForAddress((address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString());
        }

        return key.Contains(':', StringComparison.Ordinal) ? key : ForUser(key);
    }
}
