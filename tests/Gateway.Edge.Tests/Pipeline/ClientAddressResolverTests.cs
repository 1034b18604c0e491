using System.Collections.Immutable;
using System.Net;
using Gateway.Edge.Pipeline;
using Microsoft.Extensions.Primitives;

namespace Gateway.Edge.Tests.Pipeline;

public sealed class ClientAddressResolverTests
{
    private static readonly ImmutableArray<IPNetwork> TenSlashEight = [IPNetwork.Parse("10.0.0.0/8")];

    [Fact]
    public void Resolve_UntrustedPeer_IgnoresForwardedFor()
    {
        var address = ClientAddressResolver.Resolve(IPAddress.Parse("203.0.113.9"), "198.51.100.1", TenSlashEight);

        Assert.Equal("203.0.113.9", address!.ToString());
    }

    [Fact]
    public void Resolve_LoopbackPeerNotListed_IsNotTrusted()
    {
        var address = ClientAddressResolver.Resolve(IPAddress.Loopback, "198.51.100.1", TenSlashEight);

        Assert.Equal("127.0.0.1", address!.ToString());
    }

    [Fact]
    public void Resolve_TrustedPeer_TakesRightMostUntrustedHop()
    {
        var address = ClientAddressResolver.Resolve(IPAddress.Parse("10.1.2.3"), "198.51.100.7, 203.0.113.5, 10.9.9.9", TenSlashEight);

        Assert.Equal("203.0.113.5", address!.ToString());
    }

    [Fact]
    public void Resolve_SeveralHeaderLines_ReadsThemRightToLeft()
    {
        var address = ClientAddressResolver.Resolve(IPAddress.Parse("10.1.2.3"), new StringValues(["198.51.100.7", "10.0.0.2"]), TenSlashEight);

        Assert.Equal("198.51.100.7", address!.ToString());
    }

    [Fact]
    public void Resolve_AllHopsTrusted_TakesLeftMost()
    {
        var address = ClientAddressResolver.Resolve(IPAddress.Parse("10.1.2.3"), "10.0.0.5, 10.0.0.6", TenSlashEight);

        Assert.Equal("10.0.0.5", address!.ToString());
    }

    [Fact]
    public void Resolve_GarbageHop_StopsAtLastVouchedAddress()
    {
        var address = ClientAddressResolver.Resolve(IPAddress.Parse("10.1.2.3"), "198.51.100.7, not-an-ip", TenSlashEight);

        Assert.Equal("10.1.2.3", address!.ToString());
    }

    [Fact]
    public void Resolve_MappedIpv4PeerListedAsLoopback_IsTrusted()
    {
        var address = ClientAddressResolver.Resolve(IPAddress.Parse("::ffff:127.0.0.1"), "[2001:db8::1]:443", [IPNetwork.Parse("127.0.0.1/32")]);

        Assert.Equal("2001:db8::1", address!.ToString());
    }

    [Fact]
    public void ForwardedFor_NoTrustedProxies_PeerOnly()
    {
        var chain = ClientAddressResolver.ForwardedFor(IPAddress.Parse("::ffff:203.0.113.9"), "198.51.100.1", []);

        Assert.Equal("203.0.113.9", chain);
    }

    [Fact]
    public void ForwardedFor_UntrustedPeer_PeerOnly()
    {
        var chain = ClientAddressResolver.ForwardedFor(IPAddress.Parse("203.0.113.9"), "198.51.100.1, 10.0.0.1", TenSlashEight);

        Assert.Equal("203.0.113.9", chain);
    }

    [Fact]
    public void ForwardedFor_TrustedHops_ResolvedClientThenTrustedHopsThenPeer()
    {
        var chain = ClientAddressResolver.ForwardedFor(IPAddress.Parse("10.1.2.3"), new StringValues(["1.1.1.1, 198.51.100.7", "203.0.113.5, 10.9.9.9"]), TenSlashEight);

        Assert.Equal("203.0.113.5, 10.9.9.9, 10.1.2.3", chain);
    }

    [Fact]
    public void ForwardedFor_GarbageHop_StartsAtLastVouchedAddress()
    {
        var chain = ClientAddressResolver.ForwardedFor(IPAddress.Parse("10.1.2.3"), "198.51.100.7, not-an-ip, 10.0.0.4", TenSlashEight);

        Assert.Equal("10.0.0.4, 10.1.2.3", chain);
    }

    [Fact]
    public void ForwardedFor_NoPeer_Null()
    {
        Assert.Null(ClientAddressResolver.ForwardedFor(null, "198.51.100.7", TenSlashEight));
    }
}
