using Gateway.Deployment.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Gateway.Deployment.Tests.Kubernetes;

/// <summary>Services, HPA, PDB, Ingress and NetworkPolicies of every overlay.</summary>
public sealed class ServiceAndScalingTests
{
    /// <summary>Every kustomization that renders the gateway's StatefulSet: the base and the overlays.</summary>
    public static readonly TheoryData<string> ReplicaOwners = new() { "k8s/base", "k8s/overlays/dev", "k8s/overlays/prod" };

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Service_ApiGateway_MapsOnlyPort80ToTheEdges8080(string overlay)
    {
        var manifests = RenderedManifests.Of(overlay);
        var service = manifests.Get("Service", "api-gateway");
        var port = Assert.Single(service.Items("spec", "ports"));
        var edge = StatefulSetTests.Container(manifests.Get("StatefulSet", "api-gateway"), "edge");

        Assert.Equal("api-gateway", service.Text("spec", "selector", "app"));
        Assert.Equal("http", port.Text("name"));
        Assert.Equal("80", port.Text("port"));
        // A named target port: it must name the edge's container port, which must be 8080.
        Assert.Equal("8080", edge.Items("ports").Named(port.Text("targetPort")!).Text("containerPort"));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Service_Management_IsHeadlessAndTargetsTheEdges8082(string overlay)
    {
        var manifests = RenderedManifests.Of(overlay);
        var service = manifests.Get("Service", "api-gateway-management");
        var port = Assert.Single(service.Items("spec", "ports"));
        var edge = StatefulSetTests.Container(manifests.Get("StatefulSet", "api-gateway"), "edge");

        Assert.Equal("None", service.Text("spec", "clusterIP"));
        Assert.Equal("api-gateway", service.Text("spec", "selector", "app"));
        Assert.Equal("management", port.Text("name"));
        Assert.Equal("8082", edge.Items("ports").Named(port.Text("targetPort")!).Text("containerPort"));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Services_EdgeManagementPort_IsExposedOnlyByTheManagementService(string overlay)
    {
        var manifests = RenderedManifests.Of(overlay);
        var edgePorts = StatefulSetTests.Container(manifests.Get("StatefulSet", "api-gateway"), "edge").Items("ports").ToList();

        var exposing = manifests.OfKind("Service")
            .Where(service => service.Items("spec", "ports").Any(port =>
                port.Text("targetPort") == "8082" || edgePorts.Named(port.Text("targetPort") ?? string.Empty)?.Text("containerPort") == "8082"))
            .Select(service => service.Text("metadata", "name"))
            .ToList();

        Assert.Equal(["api-gateway-management"], exposing);
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Service_Silo_IsHeadlessWithOrleansPortsAndGovernsTheStatefulSet(string overlay)
    {
        var manifests = RenderedManifests.Of(overlay);
        var statefulSet = manifests.Get("StatefulSet", "api-gateway");
        var service = manifests.Get("Service", statefulSet.Text("spec", "serviceName")!);
        var silo = StatefulSetTests.Container(statefulSet, "silo");

        Assert.Equal("None", service.Text("spec", "clusterIP"));
        Assert.Equal("api-gateway", service.Text("spec", "selector", "app"));
        foreach (var (name, number) in new[] { ("orleans-silo", "11111"), ("orleans-gateway", "30000") })
        {
            var port = service.Items("spec", "ports").Named(name);
            Assert.NotNull(port);
            Assert.Equal(number, port.Text("port"));
            Assert.Equal(number, silo.Items("ports").Named(port.Text("targetPort")!).Text("containerPort"));
        }
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Hpa_ApiGateway_ScalesTheStatefulSetFrom3To10OnCpu(string overlay)
    {
        var hpa = RenderedManifests.Of(overlay).Get("HorizontalPodAutoscaler", "api-gateway");

        Assert.Equal("autoscaling/v2", hpa.Text("apiVersion"));
        Assert.Equal("StatefulSet", hpa.Text("spec", "scaleTargetRef", "kind"));
        Assert.Equal("api-gateway", hpa.Text("spec", "scaleTargetRef", "name"));
        Assert.Equal("3", hpa.Text("spec", "minReplicas"));
        Assert.Equal("10", hpa.Text("spec", "maxReplicas"));
        Assert.Contains(hpa.Items("spec", "metrics"), metric => metric.Text("resource", "name") == "cpu");
    }

    [Theory]
    [MemberData(nameof(ReplicaOwners))]
    public void StatefulSet_ApiGateway_LeavesTheReplicaCountToTheHpa(string directory)
    {
        var statefulSet = RenderedManifests.Of(directory).Get("StatefulSet", "api-gateway");
        var spec = Assert.IsType<YamlMappingNode>(statefulSet.Child("spec"));

        // Any spec.replicas would be re-applied by every `kubectl apply`, resetting what the HPA scaled to.
        Assert.DoesNotContain("replicas", spec.Children.Keys.Texts());
        Assert.NotNull(spec.Child("template"));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Pdb_ApiGateway_KeepsAllButOnePodDuringDisruptions(string overlay)
    {
        var pdb = RenderedManifests.Of(overlay).Get("PodDisruptionBudget", "api-gateway");

        Assert.Equal("1", pdb.Text("spec", "maxUnavailable"));
        Assert.Equal("api-gateway", pdb.Text("spec", "selector", "matchLabels", "app"));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Ingress_ApiGateway_RoutesEverythingToTheServicesHttpPort(string overlay)
    {
        var ingress = RenderedManifests.Of(overlay).Get("Ingress", "api-gateway");
        var path = Assert.Single(Assert.Single(ingress.Items("spec", "rules")).Items("http", "paths"));

        Assert.Equal("/", path.Text("path"));
        Assert.Equal("api-gateway", path.Text("backend", "service", "name"));
        Assert.Equal("http", path.Text("backend", "service", "port", "name"));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void NetworkPolicy_TrafficPort8080_IsOpenToTheIngressControllersNamespaceOnly(string overlay)
    {
        var rules = RenderedManifests.Of(overlay).Get("NetworkPolicy", "api-gateway").Items("spec", "ingress");

        var rule = Assert.Single(rules, rule => rule.Items("ports").Any(port => port.Text("port") == "8080"));
        Assert.Equal(["8080"], rule.Items("ports").Texts("port"));
        Assert.Equal(NetworkPeers(overlay)["ingress"], NamespaceOnly(rule));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void NetworkPolicy_SiloAndManagementPorts_AreOpenToTheMonitoringNamespaceOnly(string overlay)
    {
        var rules = RenderedManifests.Of(overlay).Get("NetworkPolicy", "api-gateway").Items("spec", "ingress");

        foreach (var port in new[] { "8081", "8082" })
        {
            var rule = Assert.Single(rules, rule => rule.Items("ports").Any(p => p.Text("port") == port));
            Assert.Equal(NetworkPeers(overlay)["monitoring"], NamespaceOnly(rule));
        }
    }

    [Fact]
    public void NetworkPolicy_PeerNamespaces_FollowTheOverlaysPatchPoint()
    {
        // The overlays' replacements, not the base's defaults, decide which namespaces are admitted.
        var peers = YamlNavigation.LoadDocuments(RepositoryRoot.ReadText("k8s/overlays/prod/network-peers.yaml")).Single();
        var targets = KustomizationLayoutTests.Kustomization("k8s/overlays/prod").Items("replacements")
            .Select(replacement => (Source: replacement.Text("source", "fieldPath"), Targets: replacement.Items("targets").Select(target => target.Text("select", "name")).ToList()))
            .ToList();

        Assert.Equal("true", peers.Text("metadata", "annotations", "config.kubernetes.io/local-config"));
        Assert.Contains(targets, target => target.Source == "data.ingress" && target.Targets.Contains("api-gateway"));
        Assert.Contains(targets, target => target.Source == "data.monitoring" && target.Targets.Contains("api-gateway") && target.Targets.Contains("redis"));
        Assert.Null(RenderedManifests.Of("k8s/overlays/prod").Find("ConfigMap", "network-peers"));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void NetworkPolicy_OrleansPorts_AreOpenToGatewayPodsOnly(string overlay)
    {
        var policy = RenderedManifests.Of(overlay).Get("NetworkPolicy", "api-gateway");
        var rules = policy.Items("spec", "ingress");

        Assert.Equal("api-gateway", policy.Text("spec", "podSelector", "matchLabels", "app"));
        foreach (var orleansPort in new[] { "11111", "30000" })
        {
            var opening = rules.Where(rule => rule.Items("ports").Any(port => port.Text("port") == orleansPort)).ToList();
            var rule = Assert.Single(opening);
            var from = Assert.Single(rule.Items("from"));
            Assert.Equal("api-gateway", from.Text("podSelector", "matchLabels", "app"));
            Assert.Null(from.Child("namespaceSelector"));
            Assert.Null(from.Child("ipBlock"));
        }

        // No rule may open every port (a rule without ports).
        Assert.All(rules, rule => Assert.NotEmpty(rule.Items("ports")));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void NetworkPolicy_Redis_IsOpenToGatewayPodsAndItsExporterToMonitoringOnly(string overlay)
    {
        var policy = RenderedManifests.Of(overlay).Get("NetworkPolicy", "redis");
        var rules = policy.Items("spec", "ingress");

        Assert.Equal("redis", policy.Text("spec", "podSelector", "matchLabels", "app"));
        Assert.Equal(2, rules.Count);
        var redis = Assert.Single(rules, rule => rule.Items("ports").Any(port => port.Text("port") == "6379"));
        Assert.Equal("api-gateway", Assert.Single(redis.Items("from")).Text("podSelector", "matchLabels", "app"));
        Assert.Equal("6379", Assert.Single(redis.Items("ports")).Text("port"));
        var exporter = Assert.Single(rules, rule => rule.Items("ports").Any(port => port.Text("port") == "9121"));
        Assert.Equal("9121", Assert.Single(exporter.Items("ports")).Text("port"));
        Assert.Equal(NetworkPeers(overlay)["monitoring"], NamespaceOnly(exporter));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Pdb_Redis_KeepsTheOnlyRedisThroughDrainsUnlessItIsBroken(string overlay)
    {
        var manifests = RenderedManifests.Of(overlay);
        var pdb = manifests.Get("PodDisruptionBudget", "redis");

        Assert.Equal("1", pdb.Text("spec", "minAvailable"));
        Assert.Equal("AlwaysAllow", pdb.Text("spec", "unhealthyPodEvictionPolicy"));
        Assert.Equal("redis", pdb.Text("spec", "selector", "matchLabels", "app"));
        Assert.Equal("redis", manifests.Get("StatefulSet", "redis").Text("spec", "template", "metadata", "labels", "app"));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Overlay_Objects_NeedNoServiceAccountOrRbac(string overlay)
    {
        var kinds = RenderedManifests.Of(overlay).Documents.Select(d => d.Text("kind")).ToHashSet(StringComparer.Ordinal);

        Assert.DoesNotContain("ServiceAccount", kinds);
        Assert.DoesNotContain("Role", kinds);
        Assert.DoesNotContain("RoleBinding", kinds);
        Assert.DoesNotContain("ClusterRole", kinds);
        Assert.DoesNotContain("ClusterRoleBinding", kinds);
    }

    /// <summary>The namespace names the overlay's patch point (network-peers.yaml) gives, by role.</summary>
    internal static IReadOnlyDictionary<string, string> NetworkPeers(string overlay) =>
        YamlNavigation.LoadDocuments(RepositoryRoot.ReadText($"{overlay}/network-peers.yaml")).Single().Child("data").StringMap();

    /// <summary>The one namespace a rule admits: exactly one peer, a namespaceSelector on the name label, nothing else.</summary>
    private static string? NamespaceOnly(YamlDotNet.RepresentationModel.YamlNode rule)
    {
        var from = Assert.Single(rule.Items("from"));
        Assert.Null(from.Child("ipBlock"));
        Assert.Null(from.Child("podSelector"));
        var labels = from.At("namespaceSelector", "matchLabels").StringMap();
        return Assert.Single(labels, label => label.Key == "kubernetes.io/metadata.name").Value;
    }
}
