using Gateway.Edge.RateLimiting;

namespace Gateway.Edge.Tests.RateLimiting;

public sealed class ClientKeysTests
{
    [Theory]
    [InlineData("203.0.113.7", "ip:203.0.113.7")]
    [InlineData("2001:db8:1:2::5", "ip:2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "ip:2001:db8:1:2::/64")]
    [InlineData("::ffff:203.0.113.7", "ip:203.0.113.7")]
    [InlineData("unknown", "ip:unknown")]
    public void ForAddress_ClientAddress_KeyedByAddressOrIpv6Slash64(string address, string expected) =>
        Assert.Equal(expected, ClientKeys.ForAddress(address));

    [Theory]
    [InlineData("2001:db8:1:2::5", "ip:2001:db8:1:2::/64")]
    [InlineData("ip:2001:db8:1:2:ffff::1", "ip:2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::/64", "ip:2001:db8:1:2::/64")]
    [InlineData("::ffff:198.51.100.1", "ip:198.51.100.1")]
    [InlineData("198.51.100.1", "ip:198.51.100.1")]
    [InlineData("alice", "user:alice")]
    [InlineData("user:bob", "user:bob")]
    public void Normalize_OperatorKey_SameKeyAsTheLimiter(string key, string expected) =>
        Assert.Equal(expected, ClientKeys.Normalize(key));
}
