using System.Collections.Concurrent;
using YamlDotNet.RepresentationModel;

namespace Gateway.Deployment.Tests.Infrastructure;

/// <summary>The objects <c>kubectl kustomize</c> renders for one kustomization directory, rendered once per test run.</summary>
public sealed class RenderedManifests
{
    /// <summary>The deployable overlays; every test of rendered objects runs against each.</summary>
    public static readonly TheoryData<string> Overlays = new() { "k8s/overlays/dev", "k8s/overlays/prod" };

    private static readonly ConcurrentDictionary<string, Lazy<RenderedManifests>> Cache = new(StringComparer.Ordinal);

    private RenderedManifests(string directory, IReadOnlyList<YamlMappingNode> documents)
    {
        Directory = directory;
        Documents = documents;
    }

    public string Directory { get; }

    public IReadOnlyList<YamlMappingNode> Documents { get; }

    /// <summary>Renders a repository-relative kustomization directory; fails with kubectl's output when it cannot.</summary>
    public static RenderedManifests Of(string directory) =>
        Cache.GetOrAdd(directory, key => new Lazy<RenderedManifests>(() => Render(key))).Value;

    public IEnumerable<YamlMappingNode> OfKind(string kind) => Documents.Where(document => document.Text("kind") == kind);

    public YamlMappingNode? Find(string kind, string name) =>
        OfKind(kind).SingleOrDefault(document => document.Text("metadata", "name") == name);

    /// <summary>The one object of that kind and name; fails naming the directory when it is missing.</summary>
    public YamlMappingNode Get(string kind, string name) =>
        Find(kind, name) ?? throw new Xunit.Sdk.XunitException($"{Directory} renders no {kind} named '{name}'; it has: {string.Join(", ", Documents.Select(d => $"{d.Text("kind")}/{d.Text("metadata", "name")}"))}");

    private static RenderedManifests Render(string directory)
    {
        var result = ExternalTool.Kubectl.Run("kustomize", directory);
        if (result.ExitCode != 0)
        {
            throw new Xunit.Sdk.XunitException(result.Describe($"kubectl kustomize {directory}"));
        }

        return new RenderedManifests(directory, YamlNavigation.LoadDocuments(result.StandardOutput));
    }
}
