using System.Globalization;
using Gateway.Deployment.Tests.Infrastructure;

namespace Gateway.Deployment.Tests.Kubernetes;

/// <summary>What distinguishes the overlays, and the secrets each one carries or expects.</summary>
public sealed class OverlayTests
{
    [Fact]
    public void Overlay_Prod_GivesEveryContainerItsMemoryLimitAsRequest()
    {
        var statefulSet = RenderedManifests.Of("k8s/overlays/prod").Get("StatefulSet", "api-gateway");

        foreach (var container in StatefulSetTests.Containers(statefulSet))
        {
            var request = container.Text("resources", "requests", "memory");
            Assert.NotNull(request);
            Assert.Equal(request, container.Text("resources", "limits", "memory"));
            Assert.NotNull(container.Text("resources", "requests", "cpu"));
        }

        var edge = StatefulSetTests.Container(statefulSet, "edge");
        Assert.Equal(edge.Text("resources", "requests", "cpu"), edge.Text("resources", "limits", "cpu"));
    }

    /// <summary>
    /// A CPU limit throttles the silo by CFS quota; its membership probes (1 s timeout) then time out and a healthy
    /// silo is voted dead. The silo gets a CPU request (its guaranteed share) and no CPU limit, with the reason beside it.
    /// </summary>
    [Theory]
    [InlineData("k8s/base")]
    [InlineData("k8s/overlays/dev")]
    [InlineData("k8s/overlays/prod")]
    public void Silo_Cpu_IsRequestedButNeverLimited(string directory)
    {
        var silo = StatefulSetTests.Container(RenderedManifests.Of(directory).Get("StatefulSet", "api-gateway"), "silo");

        Assert.NotNull(silo.Text("resources", "requests", "cpu"));
        Assert.Null(silo.Text("resources", "limits", "cpu"));
        Assert.NotNull(silo.Text("resources", "limits", "memory"));
        Assert.Contains("CPU: a request and no limit, on purpose", RepositoryRoot.ReadText("k8s/base/statefulset.yaml"), StringComparison.Ordinal);
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
    public void Overlay_Images_ComeFromOneRegistryImageWithAnImmutableTag(string overlay)
    {
        var statefulSet = RenderedManifests.Of(overlay).Get("StatefulSet", "api-gateway");
        var images = StatefulSetTests.Containers(statefulSet).Select(c => c.Text("image")).Distinct().ToList();

        var image = Assert.Single(images);
        Assert.StartsWith("registry.example.com/api-gateway:", image, StringComparison.Ordinal);
        // <version> for a release, <version>-dev.<commit> for any other build: never a tag that moves (latest, dev).
        Assert.Matches(@"^registry\.example\.com/api-gateway:\d+\.\d+\.\d+(-dev\.[0-9a-f]{7,40})?$", image);
        Assert.Contains("kustomize edit set image", RepositoryRoot.ReadText($"{overlay}/kustomization.yaml"), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Overlay_EveryContainerImage_IsPinnedToAFullVersionOrDigest(string overlay)
    {
        var images = RenderedManifests.Of(overlay).OfKind("StatefulSet")
            .SelectMany(statefulSet => statefulSet.Items("spec", "template", "spec", "containers").Concat(statefulSet.Items("spec", "template", "spec", "initContainers")))
            .Select(container => container.Text("image")!)
            .ToList();

        Assert.Contains(images, image => image.StartsWith("redis:", StringComparison.Ordinal));
        Assert.All(images, image => Assert.Matches(@"(:v?\d+\.\d+\.\d+(-[0-9a-z.]+)?|@sha256:[0-9a-f]{64})$", image));
        Assert.Contains("To update,", RepositoryRoot.ReadText("k8s/redis/statefulset.yaml"), StringComparison.Ordinal);
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

    internal static double Quantity(string? text)
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
