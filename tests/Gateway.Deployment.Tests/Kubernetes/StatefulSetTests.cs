using System.Reflection;
using Gateway.Deployment.Tests.Infrastructure;
using Gateway.Hosting.Configuration;
using YamlDotNet.RepresentationModel;

namespace Gateway.Deployment.Tests.Kubernetes;

/// <summary>The rendered StatefulSet <c>api-gateway</c> of every overlay against the contract and what the apps read.</summary>
public sealed class StatefulSetTests
{
    private const string SecretName = "api-gateway-secrets";

    private static readonly Dictionary<string, (string PortName, int Port)> HttpPorts = new(StringComparer.Ordinal)
    {
        ["edge"] = ("http", 8080),
        ["silo"] = ("silo-http", 8081),
    };

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void StatefulSet_PodTemplate_HasAppLabelAndEdgeAndSiloContainers(string overlay)
    {
        var statefulSet = RenderedManifests.Of(overlay).Get("StatefulSet", "api-gateway");

        Assert.Equal("api-gateway", statefulSet.Text("spec", "selector", "matchLabels", "app"));
        Assert.Equal("api-gateway", statefulSet.Text("spec", "template", "metadata", "labels", "app"));
        Assert.Equal(["edge", "silo"], Containers(statefulSet).Texts("name"));
        Assert.Equal(["Gateway.Edge.dll"], Container(statefulSet, "edge").Items("args").Texts());
        Assert.Equal(["Gateway.Silo.dll"], Container(statefulSet, "silo").Items("args").Texts());
        Assert.Equal("edge", statefulSet.Text("spec", "template", "metadata", "annotations", "kubectl.kubernetes.io/default-container"));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void StatefulSet_EnvironmentNames_AreReadByTheApps(string overlay)
    {
        var known = typeof(EnvironmentVariables)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral)
            .Select(field => (string)field.GetRawConstantValue()!)
            .Append("ASPNETCORE_URLS")
            .ToHashSet(StringComparer.Ordinal);
        var statefulSet = RenderedManifests.Of(overlay).Get("StatefulSet", "api-gateway");

        var unknown = Containers(statefulSet)
            .SelectMany(container => container.Items("env").Select(env => $"{container.Text("name")}: {env.Text("name")}"))
            .Where(entry =>
            {
                var name = entry[(entry.IndexOf(' ', StringComparison.Ordinal) + 1)..];
                return !known.Contains(name) && !name.StartsWith("DOTNET_", StringComparison.Ordinal) && !name.StartsWith("OTEL_", StringComparison.Ordinal);
            })
            .ToList();

        Assert.True(unknown.Count == 0, $"Environment variables no app reads: {string.Join(", ", unknown)}");
        Assert.All(Containers(statefulSet), container => Assert.Empty(container.Items("envFrom")));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void StatefulSet_Containers_ListenWhereAspNetCoreUrlsSays(string overlay)
    {
        var statefulSet = RenderedManifests.Of(overlay).Get("StatefulSet", "api-gateway");

        foreach (var (name, (portName, port)) in HttpPorts)
        {
            var container = Container(statefulSet, name);
            Assert.Equal($"http://0.0.0.0:{port}", Env(container, "ASPNETCORE_URLS").Text("value"));
            Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), container.Items("ports").Named(portName).Text("containerPort"));
        }

        var silo = Container(statefulSet, "silo");
        Assert.Equal("11111", silo.Items("ports").Named("orleans-silo").Text("containerPort"));
        Assert.Equal("30000", silo.Items("ports").Named("orleans-gateway").Text("containerPort"));
        Assert.Equal("11111", Env(silo, EnvironmentVariables.SiloPort).Text("value"));
        Assert.Equal("30000", Env(silo, EnvironmentVariables.GatewayPort).Text("value"));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void StatefulSet_Edge_ListensForManagementOnPort8082(string overlay)
    {
        var edge = Container(RenderedManifests.Of(overlay).Get("StatefulSet", "api-gateway"), "edge");

        Assert.Equal("http://0.0.0.0:8082", Env(edge, EnvironmentVariables.ManagementUrls).Text("value"));
        Assert.Equal("8082", edge.Items("ports").Named("management").Text("containerPort"));
        Assert.Equal(["http", "management"], edge.Items("ports").Texts("name"));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void StatefulSet_Probes_UseHealthEndpointsOnEachContainersPort(string overlay)
    {
        var statefulSet = RenderedManifests.Of(overlay).Get("StatefulSet", "api-gateway");

        foreach (var (name, (portName, _)) in HttpPorts)
        {
            var container = Container(statefulSet, name);
            Assert.Equal("/health/live", container.Text("livenessProbe", "httpGet", "path"));
            Assert.Equal(portName, container.Text("livenessProbe", "httpGet", "port"));
            Assert.Equal("/health/ready", container.Text("readinessProbe", "httpGet", "path"));
            Assert.Equal(portName, container.Text("readinessProbe", "httpGet", "port"));
            Assert.Equal("/health/live", container.Text("startupProbe", "httpGet", "path"));
        }
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void StatefulSet_ConfigVolume_MountsConfigMapDirectoryWithoutSubPath(string overlay)
    {
        var statefulSet = RenderedManifests.Of(overlay).Get("StatefulSet", "api-gateway");
        var volumes = statefulSet.Items("spec", "template", "spec", "volumes");

        foreach (var container in Containers(statefulSet))
        {
            var mount = container.Items("volumeMounts").Single(m => m.Text("mountPath") == "/app/config");
            Assert.Null(mount.Text("subPath"));
            Assert.Equal("true", mount.Text("readOnly"));
            Assert.Equal("api-gateway-config", volumes.Named(mount.Text("name")!).Text("configMap", "name"));
            Assert.Equal("/app/config/gateway.yml", Env(container, EnvironmentVariables.ConfigPath).Text("value"));
        }
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void StatefulSet_Silo_AdvertisesThePodIpFromTheDownwardApi(string overlay)
    {
        var silo = Container(RenderedManifests.Of(overlay).Get("StatefulSet", "api-gateway"), "silo");

        Assert.Equal("status.podIP", Env(silo, EnvironmentVariables.AdvertisedIp).Text("valueFrom", "fieldRef", "fieldPath"));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void StatefulSet_Clustering_PointsAtRedisServiceWithSecretPassword(string overlay)
    {
        var statefulSet = RenderedManifests.Of(overlay).Get("StatefulSet", "api-gateway");

        foreach (var container in Containers(statefulSet))
        {
            Assert.Equal("redis-service:6379", Env(container, EnvironmentVariables.RedisConnection).Text("value"));
            AssertFromSecret(container, EnvironmentVariables.RedisPassword);
            AssertFromSecret(container, EnvironmentVariables.AdminToken);
        }

        var edge = Container(statefulSet, "edge");
        AssertFromSecret(edge, EnvironmentVariables.SessionSecret);
        Assert.Equal("true", Env(edge, EnvironmentVariables.SessionSecretPrevious).Text("valueFrom", "secretKeyRef", "optional"));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void StatefulSet_SecurityContext_IsNonRootReadOnlyWithoutCapabilities(string overlay)
    {
        var statefulSet = RenderedManifests.Of(overlay).Get("StatefulSet", "api-gateway");
        var pod = statefulSet.At("spec", "template", "spec");

        Assert.Equal("true", pod.Text("securityContext", "runAsNonRoot"));
        Assert.Equal("1654", pod.Text("securityContext", "runAsUser"));
        Assert.Equal("false", pod.Text("automountServiceAccountToken"));
        Assert.Null(pod.Text("serviceAccountName"));
        Assert.NotNull(pod.Items("volumes").Named("tmp").Child("emptyDir"));
        foreach (var container in Containers(statefulSet))
        {
            Assert.Equal("true", container.Text("securityContext", "readOnlyRootFilesystem"));
            Assert.Equal("false", container.Text("securityContext", "allowPrivilegeEscalation"));
            Assert.Equal(["ALL"], container.Items("securityContext", "capabilities", "drop").Texts());
            Assert.Contains(container.Items("volumeMounts"), mount => mount.Text("mountPath") == "/tmp" && mount.Text("name") == "tmp");
            Assert.NotNull(container.Text("resources", "requests", "cpu"));
            Assert.NotNull(container.Text("resources", "requests", "memory"));
            Assert.NotNull(container.Text("resources", "limits", "memory"));
        }
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void StatefulSet_Shutdown_LetsTheEdgeDrainBeforeTheSiloLeaves(string overlay)
    {
        var statefulSet = RenderedManifests.Of(overlay).Get("StatefulSet", "api-gateway");
        var edge = Container(statefulSet, "edge");
        var silo = Container(statefulSet, "silo");
        var edgeDrain = Duration(Env(edge, EnvironmentVariables.DrainDelay).Text("value"));
        var siloDrain = Duration(Env(silo, EnvironmentVariables.DrainDelay).Text("value"));
        var siloPreStop = TimeSpan.FromSeconds(int.Parse(silo.Text("lifecycle", "preStop", "sleep", "seconds")!, System.Globalization.CultureInfo.InvariantCulture));
        var grace = TimeSpan.FromSeconds(int.Parse(statefulSet.Text("spec", "template", "spec", "terminationGracePeriodSeconds")!, System.Globalization.CultureInfo.InvariantCulture));

        // The edge must fail readiness long enough for endpoints to drop the pod (a few seconds at least).
        Assert.InRange(edgeDrain, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));
        // The local silo keeps serving grains until the edge stops taking new requests.
        Assert.True(siloPreStop >= edgeDrain, $"silo preStop {siloPreStop} ends before the edge's drain {edgeDrain}");
        // In-flight requests may last the longest upstream timeout (30s); the silo needs time to leave the cluster.
        Assert.True(grace >= edgeDrain + TimeSpan.FromSeconds(30), $"grace {grace} < edge drain {edgeDrain} + 30s");
        Assert.True(grace >= siloPreStop + siloDrain + TimeSpan.FromSeconds(30), $"grace {grace} < silo preStop {siloPreStop} + drain {siloDrain} + 30s");
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void StatefulSet_AntiAffinity_PrefersSpreadingPodsOverNodes(string overlay)
    {
        var statefulSet = RenderedManifests.Of(overlay).Get("StatefulSet", "api-gateway");
        var terms = statefulSet.Items("spec", "template", "spec", "affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution");

        Assert.Contains(terms, term =>
            term.Text("podAffinityTerm", "topologyKey") == "kubernetes.io/hostname"
            && term.Text("podAffinityTerm", "labelSelector", "matchLabels", "app") == "api-gateway");
        Assert.Null(statefulSet.At("spec", "template", "spec", "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution"));
    }

    internal static IReadOnlyList<YamlNode> Containers(YamlNode statefulSet) =>
        statefulSet.Items("spec", "template", "spec", "containers");

    internal static YamlNode Container(YamlNode statefulSet, string name) =>
        Containers(statefulSet).Named(name) ?? throw new Xunit.Sdk.XunitException($"No container '{name}' in {statefulSet.Text("metadata", "name")}");

    internal static YamlNode Env(YamlNode container, string name) =>
        container.Items("env").Named(name) ?? throw new Xunit.Sdk.XunitException($"Container '{container.Text("name")}' does not set {name}");

    private static void AssertFromSecret(YamlNode container, string name)
    {
        var reference = Env(container, name).At("valueFrom", "secretKeyRef");
        Assert.Equal(SecretName, reference.Text("name"));
        Assert.Equal(name, reference.Text("key"));
    }

    private static TimeSpan Duration(string? text)
    {
        Assert.True(DurationParser.TryParse(text, out var duration), $"'{text}' is not a duration the apps accept");
        return duration;
    }
}
