using Gateway.Deployment.Tests.Infrastructure;
using Gateway.Hosting.Configuration;

namespace Gateway.Deployment.Tests.Kubernetes;

/// <summary>The <c>gateway.yml</c> the cluster and the image carry is one the gateway accepts.</summary>
public sealed class GatewayConfigMapTests
{
    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void ConfigMap_GatewayYml_ParsesWithoutErrors(string overlay)
    {
        var configMap = RenderedManifests.Of(overlay).Get("ConfigMap", "api-gateway-config");
        var yaml = configMap.Text("data", "gateway.yml");

        Assert.NotNull(yaml);
        var result = GatewayConfigParser.Parse(yaml);
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        Assert.Empty(result.Errors);
        Assert.True(result.Config!.Session.SecureCookie, "the cluster is reached over TLS: session cookies must be Secure");
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void ConfigMap_Data_HoldsOnlyGatewayYml(string overlay)
    {
        var configMap = RenderedManifests.Of(overlay).Get("ConfigMap", "api-gateway-config");

        Assert.Equal(["gateway.yml"], configMap.Child("data").StringMap().Keys.ToArray());
    }

    [Fact]
    public void ImageDefaultConfig_GatewayYml_ParsesWithoutErrors()
    {
        var result = GatewayConfigParser.Parse(RepositoryRoot.ReadText("config/gateway.yml"));

        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
    }
}
