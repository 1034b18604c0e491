using Gateway.Deployment.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Gateway.Deployment.Tests.Monitoring;

/// <summary>The PrometheusRule against the contract, the runbook, the plain rules file and the metrics the code emits.</summary>
public sealed class AlertRuleTests
{
    public const string RulesFile = "k8s/monitoring/rules/gateway-alerts.yml";

    /// <summary>The contract's eight alerts with the runbook's severities (the two it leaves out are warnings).</summary>
    public static readonly IReadOnlyDictionary<string, string> ExpectedSeverities = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["APIGatewayDown"] = "critical",
        ["APIGatewayHighServerErrorRate"] = "critical",
        ["APIGatewayHighLatency"] = "warning",
        ["APIGatewayCriticalLatency"] = "critical",
        ["APIGatewayAuthFailureSpike"] = "critical",
        ["APIGatewayHighAuthFailureRate"] = "warning",
        ["APIGatewayHighRateLimitRate"] = "warning",
        ["APIGatewayInsufficientReplicas"] = "critical",
    };

    [Fact]
    public void PrometheusRule_Alerts_AreExactlyTheContractsEight()
    {
        var names = Alerts(PrometheusRule().Child("spec")).Select(rule => rule.Text("alert")).ToList();

        Assert.Equal(8, names.Count);
        Assert.Equal(ExpectedSeverities.Keys.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void PrometheusRule_SpecGroups_AreIdenticalToThePlainRulesFile()
    {
        var plain = YamlNavigation.LoadDocuments(RepositoryRoot.ReadText(RulesFile)).Single();
        var rendered = PrometheusRule().Child("spec");

        Assert.Equal(["groups"], ((YamlMappingNode)plain).Children.Keys.Texts());
        Assert.True(
            plain.Child("groups").Canonical() == rendered.Child("groups").Canonical(),
            $"spec.groups of k8s/monitoring/prometheusrule.yaml differs from {RulesFile}: copy the file's groups into the PrometheusRule.");
    }

    [Fact]
    public void AlertRules_Severities_FollowTheRunbook()
    {
        var severities = Alerts(PlainRules()).ToDictionary(rule => rule.Text("alert")!, rule => rule.Text("labels", "severity"), StringComparer.Ordinal);

        Assert.All(ExpectedSeverities, expected => Assert.Equal(expected.Value, severities[expected.Key]));
    }

    [Fact]
    public void AlertRules_EveryAlert_HasForSummaryAndRunbookReference()
    {
        Assert.All(Alerts(PlainRules()), rule =>
        {
            Assert.False(string.IsNullOrEmpty(rule.Text("for")), $"{rule.Text("alert")} has no `for`");
            Assert.False(string.IsNullOrEmpty(rule.Text("annotations", "summary")));
            Assert.StartsWith("runbook.md, ", rule.Text("annotations", "runbook"), StringComparison.Ordinal);
        });
    }

    [Fact]
    public void AlertRules_MetricNames_AreEmittedByTheGatewayOrScrapedFromKubernetes()
    {
        var used = Alerts(PlainRules()).SelectMany(rule => MetricCatalog.SelectedMetrics(rule.Text("expr")!)).ToHashSet(StringComparer.Ordinal);
        var unknown = used.Where(name => !MetricCatalog.GatewaySeries.Contains(name) && !MetricCatalog.External.Contains(name)).ToList();

        Assert.Contains("gateway_requests_total", MetricCatalog.GatewaySeries);
        Assert.Contains("gateway_request_duration_seconds_bucket", used);
        Assert.Contains("gateway_auth_failures_total", used);
        Assert.Contains("gateway_ratelimit_exceeded_total", used);
        Assert.True(unknown.Count == 0, $"Alert expressions use series nothing emits: {string.Join(", ", unknown)} (known: {string.Join(", ", MetricCatalog.GatewaySeries.Order(StringComparer.Ordinal))})");
    }

    [Fact]
    public void AlertRules_GatewaySelectors_ScopeToTheEdgeJob()
    {
        var expressions = Alerts(PlainRules()).Select(rule => rule.Text("expr")!).ToList();

        Assert.All(
            expressions.Where(expr => expr.Contains("gateway_", StringComparison.Ordinal) || expr.Contains("up{", StringComparison.Ordinal)),
            expr => Assert.Contains("job=\"api-gateway\"", expr, StringComparison.Ordinal));
        Assert.Contains(expressions, expr => expr.Contains("kube_statefulset_status_replicas_ready{statefulset=\"api-gateway\"}", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void ServiceMonitor_Endpoints_NameServicePortsOfSelectedServices(string overlay)
    {
        var manifests = RenderedManifests.Of(overlay);
        var monitor = manifests.Get("ServiceMonitor", "api-gateway");
        var selector = monitor.At("spec", "selector", "matchLabels").StringMap();
        var selected = manifests.OfKind("Service")
            .Where(service => selector.All(label => service.Text("metadata", "labels", label.Key) == label.Value))
            .ToList();

        Assert.DoesNotContain(selected, service => service.Text("metadata", "name") == "redis-service");
        Assert.All(monitor.Items("spec", "endpoints"), endpoint =>
        {
            Assert.Equal("/metrics", endpoint.Text("path"));
            Assert.Contains(selected, service => service.Items("spec", "ports").Named(endpoint.Text("port")!) is not null);
        });
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void ServiceMonitor_Edges_AreScrapedOnTheManagementPort8082AsJobApiGateway(string overlay)
    {
        var manifests = RenderedManifests.Of(overlay);
        var monitor = manifests.Get("ServiceMonitor", "api-gateway");
        var edge = Kubernetes.StatefulSetTests.Container(manifests.Get("StatefulSet", "api-gateway"), "edge");
        var endpoints = monitor.Items("spec", "endpoints").ToList();

        // Each endpoint's port must be a port of the Services it selects; follow it to the container port it reaches.
        var scrapedEdgePorts = manifests.OfKind("Service")
            .SelectMany(service => service.Items("spec", "ports"))
            .Where(port => endpoints.Any(endpoint => endpoint.Text("port") == port.Text("name")))
            .Select(port => edge.Items("ports").Named(port.Text("targetPort")!)?.Text("containerPort"))
            .OfType<string>()
            .ToList();
        var management = Assert.Single(endpoints, endpoint => endpoint.Text("port") == "management");
        var job = Assert.Single(management.Items("relabelings"), relabeling => relabeling.Text("targetLabel") == "job");

        Assert.Equal(["8082"], scrapedEdgePorts);
        Assert.DoesNotContain(endpoints, endpoint => endpoint.Text("port") == "http");

        // The alerts select the edges as job="api-gateway".
        Assert.Equal("api-gateway", job.Text("replacement"));
        Assert.Equal("replace", job.Text("action"));
    }

    internal static YamlNode PlainRules() => YamlNavigation.LoadDocuments(RepositoryRoot.ReadText(RulesFile)).Single();

    internal static IEnumerable<YamlNode> Alerts(YamlNode? groupsHolder) =>
        groupsHolder.Items("groups").SelectMany(group => group.Items("rules")).Where(rule => rule.Child("alert") is not null);

    private static YamlMappingNode PrometheusRule() => RenderedManifests.Of("k8s/monitoring").Get("PrometheusRule", "api-gateway");
}
