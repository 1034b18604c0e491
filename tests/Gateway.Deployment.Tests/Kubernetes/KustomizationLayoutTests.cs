using Gateway.Deployment.Tests.Infrastructure;

namespace Gateway.Deployment.Tests.Kubernetes;

/// <summary>
/// Every kustomization is a file named <c>kustomization.yaml</c>, applied with <c>kubectl apply -k</c> through an
/// overlay. The base, Redis and monitoring directories are namespace-free; each overlay puts everything in its own
/// namespace, so that dev and prod cannot overwrite each other in one cluster.
/// </summary>
public sealed class KustomizationLayoutTests
{
    public static readonly TheoryData<string> Directories = new() { "k8s/base", "k8s/redis", "k8s/monitoring", "k8s/overlays/dev", "k8s/overlays/prod" };

    public static readonly TheoryData<string> Components = new() { "k8s/base", "k8s/redis", "k8s/monitoring" };

    [Theory]
    [MemberData(nameof(Components))]
    public void Kustomize_Component_RendersNamedObjectsWithoutANamespace(string directory)
    {
        var manifests = RenderedManifests.Of(directory);

        Assert.NotEmpty(manifests.Documents);
        Assert.All(manifests.Documents, document =>
        {
            Assert.False(string.IsNullOrEmpty(document.Text("apiVersion")));
            Assert.False(string.IsNullOrEmpty(document.Text("metadata", "name")));
            Assert.Null(document.Text("metadata", "namespace"));
        });
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Kustomize_Overlay_PutsEveryObjectInItsOwnNamespace(string overlay)
    {
        var manifests = RenderedManifests.Of(overlay);
        var kustomization = Kustomization(overlay);
        var namespaceName = kustomization.Text("namespace");

        Assert.False(string.IsNullOrEmpty(namespaceName), $"{overlay}/kustomization.yaml sets no namespace");
        var created = Assert.Single(manifests.OfKind("Namespace"));
        Assert.Equal(namespaceName, created.Text("metadata", "name"));
        Assert.All(
            manifests.Documents.Where(document => document.Text("kind") != "Namespace"),
            document => Assert.True(document.Text("metadata", "namespace") == namespaceName, $"{document.Text("kind")}/{document.Text("metadata", "name")} is not in namespace {namespaceName}"));
    }

    [Fact]
    public void Kustomize_Overlays_UseDifferentNamespaces()
    {
        var namespaces = new[] { "k8s/overlays/dev", "k8s/overlays/prod" }.Select(overlay => Kustomization(overlay).Text("namespace")).ToList();

        Assert.Equal(namespaces.Count, namespaces.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Namespace_Overlay_EnforcesTheRestrictedPodSecurityStandard(string overlay)
    {
        var labels = Assert.Single(RenderedManifests.Of(overlay).OfKind("Namespace")).At("metadata", "labels").StringMap();

        Assert.Equal("restricted", labels["pod-security.kubernetes.io/enforce"]);
        Assert.Equal("restricted", labels["pod-security.kubernetes.io/warn"]);
        Assert.Equal("restricted", labels["pod-security.kubernetes.io/audit"]);
    }

    [Fact]
    public void Kustomization_EveryDirectory_UsesTheFileNameKustomizationYaml()
    {
        var k8s = RepositoryRoot.Combine("k8s");
        var files = Directory.EnumerateFiles(k8s, "*", SearchOption.AllDirectories)
            .Where(file => Path.GetFileName(file).StartsWith("kustomization", StringComparison.OrdinalIgnoreCase))
            .Select(file => Path.GetRelativePath(RepositoryRoot.Path, file).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();

        string[] directories = ["k8s/base", "k8s/redis", "k8s/monitoring", "k8s/overlays/dev", "k8s/overlays/prod"];
        Assert.Equal(directories.Select(directory => $"{directory}/kustomization.yaml").Order(StringComparer.Ordinal), files);
    }

    [Theory]
    [MemberData(nameof(Components))]
    public void Kustomization_Component_ListsExactlyItsObjectFiles(string directory)
    {
        var root = RepositoryRoot.Combine(directory);
        var kustomization = Kustomization(directory);
        var yamlFiles = Directory.EnumerateFiles(root)
            .Select(file => Path.GetFileName(file))
            .Where(file => file != "kustomization.yaml" && (file.EndsWith(".yaml", StringComparison.Ordinal) || file.EndsWith(".yml", StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal)
            .ToArray();

        Assert.Equal(yamlFiles, kustomization.Items("resources").Texts().Order(StringComparer.Ordinal).ToArray());
        Assert.All(yamlFiles, file =>
        {
            var document = Assert.Single(YamlNavigation.LoadDocuments(File.ReadAllText(Path.Combine(root, file))));
            Assert.NotNull(document.Text("kind"));
            Assert.NotEqual("Secret", document.Text("kind"));
        });
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Overlay_Resources_IncludeBaseRedisAndMonitoring(string overlay)
    {
        var manifests = RenderedManifests.Of(overlay);

        Assert.NotNull(manifests.Find("StatefulSet", "api-gateway"));
        Assert.NotNull(manifests.Find("StatefulSet", "redis"));
        Assert.NotNull(manifests.Find("PrometheusRule", "api-gateway"));
        Assert.NotNull(manifests.Find("ServiceMonitor", "api-gateway"));
        Assert.NotNull(manifests.Find("ServiceMonitor", "redis"));
        Assert.All(
            manifests.Documents.Where(d => d.Text("kind") is "StatefulSet"),
            statefulSet => Assert.Contains(statefulSet.Text("spec", "template", "metadata", "labels", "app"), new[] { "api-gateway", "redis" }));
    }

    internal static YamlDotNet.RepresentationModel.YamlMappingNode Kustomization(string directory) =>
        YamlNavigation.LoadDocuments(RepositoryRoot.ReadText($"{directory}/kustomization.yaml")).Single();
}
