using Gateway.Deployment.Tests.Infrastructure;

namespace Gateway.Deployment.Tests.Kubernetes;

/// <summary>
/// The runbook applies directories with <c>kubectl apply -f k8s/base/</c> and <c>kubectl apply -f k8s/redis/</c>. That reads
/// every *.yaml, *.yml and *.json file of the directory, so there the kustomization file is named <c>Kustomization</c>
/// (no extension) and every object file is complete: -f and -k then apply the same objects.
/// </summary>
public sealed class KustomizationLayoutTests
{
    public static readonly TheoryData<string> Directories = new() { "k8s/base", "k8s/redis", "k8s/monitoring", "k8s/overlays/dev", "k8s/overlays/prod" };

    public static readonly TheoryData<string> AppliedWithDashF = new() { "k8s/base", "k8s/redis" };

    [Theory]
    [MemberData(nameof(Directories))]
    public void Kustomize_Directory_RendersNamedObjects(string directory)
    {
        var manifests = RenderedManifests.Of(directory);

        Assert.NotEmpty(manifests.Documents);
        Assert.All(manifests.Documents, document =>
        {
            Assert.False(string.IsNullOrEmpty(document.Text("apiVersion")));
            Assert.False(string.IsNullOrEmpty(document.Text("metadata", "name")));
            // The runbook's commands name no namespace: objects go to the namespace chosen at apply time.
            Assert.Null(document.Text("metadata", "namespace"));
        });
    }

    [Theory]
    [MemberData(nameof(AppliedWithDashF))]
    public void Kustomization_DirectoryAppliedWithDashF_ListsExactlyItsYamlFiles(string directory)
    {
        var root = RepositoryRoot.Combine(directory);
        var kustomization = YamlNavigation.LoadDocuments(File.ReadAllText(Path.Combine(root, "Kustomization"))).Single();
        var yamlFiles = Directory.EnumerateFiles(root)
            .Where(file => file.EndsWith(".yaml", StringComparison.Ordinal) || file.EndsWith(".yml", StringComparison.Ordinal) || file.EndsWith(".json", StringComparison.Ordinal))
            .Select(file => Path.GetFileName(file))
            .Order(StringComparer.Ordinal)
            .ToArray();

        Assert.Equal(yamlFiles, kustomization.Items("resources").Texts().Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(["apiVersion", "kind", "resources"], kustomization.Children.Keys.Texts().Order(StringComparer.Ordinal).ToArray());
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
        Assert.All(
            manifests.Documents.Where(d => d.Text("kind") is "StatefulSet"),
            statefulSet => Assert.Contains(statefulSet.Text("spec", "template", "metadata", "labels", "app"), new[] { "api-gateway", "redis" }));
    }
}
