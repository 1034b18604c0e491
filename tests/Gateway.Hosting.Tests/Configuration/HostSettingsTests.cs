using System.Net;
using Gateway.Hosting.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Hosting.Tests.Configuration;

public sealed class HostSettingsTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void Read_NothingSet_IsEmbeddedWithContractDefaults()
    {
        var settings = HostSettings.Read(Config());

        Assert.True(settings.IsEmbedded);
        Assert.Equal("config/gateway.yml", settings.ConfigPath);
        Assert.Equal("api-gateway", settings.ClusterId);
        Assert.Equal("api-gateway", settings.ServiceId);
        Assert.Equal(11111, settings.SiloPort);
        Assert.Equal(30000, settings.GatewayPort);
        Assert.Equal(IPAddress.Loopback, settings.AdvertisedIp);
        Assert.Null(settings.SessionTtl);
        Assert.Equal(TimeSpan.Zero, settings.DrainDelay);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.IAmAliveInterval);
    }

    [Fact]
    public void Read_RedisConnection_IsClusteredAndToleratesRedisDown()
    {
        var settings = HostSettings.Read(Config(("REDIS_CONNECTION", "127.0.0.1:6390"), ("REDIS_PASSWORD", "s3cret"), ("SESSION_TTL", "90"), ("ORLEANS_IAMALIVE_INTERVAL", "2s")));

        Assert.False(settings.IsEmbedded);
        Assert.False(settings.Redis!.AbortOnConnectFail);
        Assert.Equal("s3cret", settings.Redis.Password);
        Assert.Equal(TimeSpan.FromSeconds(90), settings.SessionTtl);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.DrainDelay);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.IAmAliveInterval);
    }

    [Fact]
    public void Read_InvalidValues_ThrowsNamingEveryVariable()
    {
        var ex = Assert.Throws<GatewayConfigurationException>(() => HostSettings.Read(Config(
            ("ORLEANS_SILO_PORT", "70000"),
            ("ORLEANS_GATEWAY_PORT", "abc"),
            ("ORLEANS_ADVERTISED_IP", "not-an-ip"),
            ("SESSION_TTL", "forever"),
            ("SHUTDOWN_DRAIN_DELAY", "later"),
            ("ORLEANS_IAMALIVE_INTERVAL", "100ms"))));

        Assert.Equal(
            ["ORLEANS_ADVERTISED_IP", "ORLEANS_GATEWAY_PORT", "ORLEANS_IAMALIVE_INTERVAL", "ORLEANS_SILO_PORT", "SESSION_TTL", "SHUTDOWN_DRAIN_DELAY"],
            ex.Errors.Select(e => e.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Read_RedisPassword_NeverInErrorMessages()
    {
        var ex = Assert.Throws<GatewayConfigurationException>(() => HostSettings.Read(Config(
            ("REDIS_CONNECTION", "127.0.0.1:6379,password=hunter2,bogus=1"),
            ("SESSION_TTL", "x"))));

        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
        Assert.Contains(ex.Errors, e => e.Key == "REDIS_CONNECTION");
    }

    [Fact]
    public void Read_ManagementUrls_ListsThemAndTheirPorts()
    {
        var settings = HostSettings.Read(Config(("MANAGEMENT_URLS", "http://0.0.0.0:8082; http://+:8083")));

        Assert.Equal(["http://0.0.0.0:8082", "http://+:8083"], settings.ManagementUrls);
        Assert.Equal([8082, 8083], settings.ManagementPorts.Order());
    }

    [Fact]
    public void Read_NoManagementUrls_HasNone()
    {
        var settings = HostSettings.Read(Config());

        Assert.Empty(settings.ManagementUrls);
        Assert.Empty(settings.ManagementPorts);
    }

    [Theory]
    [InlineData("0.0.0.0:8082")]
    [InlineData("https://0.0.0.0:8082")]
    [InlineData("/metrics")]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://0.0.0.0:8082/admin")]
    [InlineData("http://0.0.0.0:8082;ftp://x")]
    public void Read_InvalidManagementUrls_ThrowsNamingManagementUrls(string value)
    {
        var ex = Assert.Throws<GatewayConfigurationException>(() => HostSettings.Read(Config(("MANAGEMENT_URLS", value))));

        Assert.Equal("MANAGEMENT_URLS", Assert.Single(ex.Errors).Key);
    }

    [Theory]
    [InlineData("tiny-token")]
    [InlineData("0123456789abcdef0123456789abcde")]
    public void Read_AdminTokenShorterThan32Bytes_ThrowsNamingAdminTokenWithoutItsValue(string token)
    {
        var ex = Assert.Throws<GatewayConfigurationException>(() => HostSettings.Read(Config(("ADMIN_TOKEN", token))));

        Assert.Equal("ADMIN_TOKEN", Assert.Single(ex.Errors).Key);
        Assert.DoesNotContain(token, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef")]
    [InlineData("ééééééééééééééé-ü")] // 17 characters, 33 bytes in UTF-8
    public void Read_AdminTokenOf32BytesOrMore_IsAccepted(string token)
    {
        var settings = HostSettings.Read(Config(("ADMIN_TOKEN", token)));

        Assert.DoesNotContain(token, settings.ToString(), StringComparison.Ordinal);
    }
}
