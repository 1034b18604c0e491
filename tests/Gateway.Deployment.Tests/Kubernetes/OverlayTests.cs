using System.Globalization;
using Gateway.Deployment.Tests.Infrastructure;

namespace Gateway.Deployment.Tests.Kubernetes;

/// <summary>What distinguishes the overlays, and the secrets each one carries or expects.</summary>
public sealed class OverlayTests
{
    [Fact]
    public void Overlay_Prod_GivesEveryContainerGuaranteedResources()
    {
        var statefulSet = RenderedManifests.Of("k8s/overlays/prod").Get("StatefulSet", "api-gateway");

        foreach (var container in StatefulSetTests.Containers(statefulSet))
        {
            foreach (var resource in new[] { "cpu", "memory" })
            {
                var request = container.Text("resources", "requests", resource);
                Assert.NotNull(request);
                Assert.Equal(request, container.Text("resources", "limits", resource));
            }
        }
    }

    [Fact]
    public void Overlay_Dev_RequestsLessThanProdForEveryContainer()
    {
        var dev = RenderedManifests.Of("k8s/overlays/dev").Get("StatefulSet", "api-gateway");
        var prod = RenderedManifests.Of("k8s/overlays/prod").Get("StatefulSet", "api-gateway");

        foreach (var name in new[] { "edge", "silo" })
        {
            foreach (var resource in new[] { "cpu", "memory" })
            {
                var devRequest = Quantity(StatefulSetTests.Container(dev, name).Text("resources", "requests", resource));
                var prodRequest = Quantity(StatefulSetTests.Container(prod, name).Text("resources", "requests", resource));
                Assert.True(devRequest < prodRequest, $"{name} {resource}: dev requests {devRequest}, prod {prodRequest}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Overlay_Images_ComeFromOneRegistryImageForBothContainers(string overlay)
    {
        var statefulSet = RenderedManifests.Of(overlay).Get("StatefulSet", "api-gateway");
        var images = StatefulSetTests.Containers(statefulSet).Select(c => c.Text("image")).Distinct().ToList();

        var image = Assert.Single(images);
        Assert.StartsWith("registry.example.com/api-gateway:", image, StringComparison.Ordinal);
        Assert.DoesNotContain(":latest", image, StringComparison.Ordinal);
    }

    [Fact]
    public void Secret_Dev_HoldsClearlyPlaceholderValuesForEveryKey()
    {
        var secret = RenderedManifests.Of("k8s/overlays/dev").Get("Secret", "api-gateway-secrets");
        var values = secret.Child("stringData").StringMap();

        Assert.Equal(["ADMIN_TOKEN", "REDIS_PASSWORD", "SESSION_SECRET"], values.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.All(values.Values, value => Assert.StartsWith("CHANGE-ME", value, StringComparison.Ordinal));
        // The edge refuses a session secret shorter than 32 bytes in clustered mode.
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(values["SESSION_SECRET"]) >= 32);
    }

    [Fact]
    public void Secret_Prod_IsNotShippedWithTheManifests()
    {
        Assert.Empty(RenderedManifests.Of("k8s/overlays/prod").OfKind("Secret"));
    }

    private static double Quantity(string? text)
    {
        Assert.NotNull(text);
        (string Suffix, double Factor)[] suffixes = [("Ki", 1024d), ("Mi", 1024d * 1024), ("Gi", 1024d * 1024 * 1024), ("m", 0.001)];
        foreach (var (suffix, factor) in suffixes)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal))
            {
                return double.Parse(text[..^suffix.Length], CultureInfo.InvariantCulture) * factor;
            }
        }

        return double.Parse(text, CultureInfo.InvariantCulture);
    }
}
