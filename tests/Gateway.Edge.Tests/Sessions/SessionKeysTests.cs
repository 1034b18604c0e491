using Gateway.Edge.Sessions;
using Gateway.Hosting.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Edge.Tests.Sessions;

public sealed class SessionKeysTests
{
    private const string Secret = "0123456789abcdef0123456789abcdef-current";
    private const string Previous = "0123456789abcdef0123456789abcdef-previous";

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void Read_ClusteredWithoutSecret_ThrowsNamingSessionSecret()
    {
        var ex = Assert.Throws<GatewayConfigurationException>(() => SessionKeys.Read(Configuration(), embedded: false));

        var error = Assert.Single(ex.Errors);
        Assert.Equal(EnvironmentVariables.SessionSecret, error.Key);
    }

    [Fact]
    public void Read_ShortSecret_ThrowsWithoutEchoingIt()
    {
        var ex = Assert.Throws<GatewayConfigurationException>(() => SessionKeys.Read(Configuration((EnvironmentVariables.SessionSecret, "short-secret")), embedded: true));

        var error = Assert.Single(ex.Errors);
        Assert.Equal(EnvironmentVariables.SessionSecret, error.Key);
        Assert.DoesNotContain("short-secret", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ShortPreviousSecret_ThrowsNamingSessionSecretPrevious()
    {
        var ex = Assert.Throws<GatewayConfigurationException>(() => SessionKeys.Read(
            Configuration((EnvironmentVariables.SessionSecret, Secret), (EnvironmentVariables.SessionSecretPrevious, "too-short")),
            embedded: false));

        Assert.Equal(EnvironmentVariables.SessionSecretPrevious, Assert.Single(ex.Errors).Key);
    }

    [Fact]
    public void Read_EmbeddedWithoutSecret_GeneratesRandomKey()
    {
        var first = SessionKeys.Read(Configuration(), embedded: true);
        var second = SessionKeys.Read(Configuration(), embedded: true);

        Assert.True(first.Generated);
        Assert.NotEqual(first.Current.Id, second.Current.Id);
    }

    [Fact]
    public void Read_BothSecrets_FindsEachByKeyId()
    {
        var keys = SessionKeys.Read(Configuration((EnvironmentVariables.SessionSecret, Secret), (EnvironmentVariables.SessionSecretPrevious, Previous)), embedded: false);

        Assert.False(keys.Generated);
        Assert.NotNull(keys.Previous);
        Assert.Same(keys.Current, keys.Find(keys.Current.Id));
        Assert.Same(keys.Previous, keys.Find(keys.Previous.Id));
        Assert.Null(keys.Find("AAAAAAAA"));
    }
}
