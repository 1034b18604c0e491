using Gateway.Deployment.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Gateway.Deployment.Tests.Monitoring;

/// <summary>The PrometheusRule against the contract, the runbook, the plain rules file and the metrics the code emits.</summary>
public sealed partial class AlertRuleTests
{
    public const string RulesFile = "k8s/monitoring/rules/gateway-alerts.yml";

    /// <summary>The contract's eight alert names, exact.</summary>
    public static readonly IReadOnlyList<string> ContractAlerts =
    [
        "APIGatewayDown", "APIGatewayHighServerErrorRate", "APIGatewayHighLatency", "APIGatewayCriticalLatency",
        "APIGatewayAuthFailureSpike", "APIGatewayHighAuthFailureRate", "APIGatewayHighRateLimitRate", "APIGatewayInsufficientReplicas",
    ];

    /// <summary>Every alert with the runbook's severity: the contract's eight, then the platform's and Redis'.</summary>
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
        ["APIGatewaySiloDown"] = "warning",
        ["APIGatewayHPAAtMaximum"] = "warning",
        ["APIGatewayContainerRestarting"] = "warning",
        ["APIGatewayContainerOOMKilled"] = "warning",
        ["APIGatewayHighUpstreamErrorRate"] = "warning",
        ["APIGatewayRateLimiterBackendFailing"] = "warning",
        ["APIGatewayConfigReloadFailed"] = "warning",
        ["APIGatewayRedisDown"] = "critical",
        ["APIGatewayRedisMemoryHigh"] = "warning",
    };

    [Fact]
    public void PrometheusRule_Alerts_AreTheContractsEightAndTheOperationalOnes()
    {
        var names = Alerts(PrometheusRule().Child("spec")).Select(rule => rule.Text("alert")!).ToList();

        Assert.All(ContractAlerts, alert => Assert.Contains(alert, names));
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(ExpectedSeverities.Keys.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AlertRules_ServerErrorRatio_RequiresAMinimumTraffic()
    {
        var expr = Alerts(PlainRules()).Single(rule => rule.Text("alert") == "APIGatewayHighServerErrorRate").Text("expr")!;

        Assert.Matches(@"(?s)> 0\.05\s.*\band\b.*rate\(gateway_requests_total\{[^}]*\}\[5m\]\)\)\s*> 1\b", expr);
    }

    [Theory]
    [InlineData("APIGatewaySiloDown", "up{job=\"api-gateway-silo\"}", null)]
    [InlineData("APIGatewayRateLimiterBackendFailing", "gateway_ratelimit_backend_failures_total", "5m")]
    [InlineData("APIGatewayConfigReloadFailed", "result=\"failure\"", null)]
    [InlineData("APIGatewayHPAAtMaximum", "kube_horizontalpodautoscaler_spec_max_replicas{horizontalpodautoscaler=\"api-gateway\"}", "15m")]
    [InlineData("APIGatewayContainerOOMKilled", "reason=\"OOMKilled\"", null)]
    [InlineData("APIGatewayRedisMemoryHigh", "redis_memory_max_bytes", null)]
    public void AlertRules_OperationalAlert_WatchesWhatItIsNamedFor(string alert, string selector, string? duration)
    {
        var rule = Alerts(PlainRules()).Single(rule => rule.Text("alert") == alert);

        Assert.Contains(selector, rule.Text("expr"), StringComparison.Ordinal);
        if (duration is not null)
        {
            Assert.Equal(duration, rule.Text("for"));
        }
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
    public void AlertRules_Selectors_ScopeToTheGatewaysJobsOrObjects()
    {
        var expressions = Alerts(PlainRules()).Select(rule => rule.Text("expr")!).ToList();
        var selectors = expressions.SelectMany(expr => SelectorText().Matches(expr)).Select(match => match.Value).ToList();

        // Scraped series name the job that scrapes them; kube-state-metrics series name the gateway's objects.
        Assert.All(
            selectors.Where(selector => selector.StartsWith("gateway_", StringComparison.Ordinal) || selector.StartsWith("up{", StringComparison.Ordinal) || selector.StartsWith("redis_", StringComparison.Ordinal)),
            selector => Assert.Matches("job=~?\"(api-gateway|api-gateway-silo|api-gateway\\|api-gateway-silo|redis-metrics)\"", selector));
        Assert.All(
            selectors.Where(selector => selector.StartsWith("kube_", StringComparison.Ordinal)),
            selector => Assert.Matches("(statefulset|horizontalpodautoscaler)=\"api-gateway\"|pod=~\"\\(api-gateway\\|redis\\)-\\[0-9\\]\\+\"", selector));
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

    [System.Text.RegularExpressions.GeneratedRegex(@"\b[a-zA-Z_:][a-zA-Z0-9_:]*\{[^}]*\}")]
    private static partial System.Text.RegularExpressions.Regex SelectorText();

    internal static YamlNode PlainRules() => YamlNavigation.LoadDocuments(RepositoryRoot.ReadText(RulesFile)).Single();

    internal static IEnumerable<YamlNode> Alerts(YamlNode? groupsHolder) =>
        groupsHolder.Items("groups").SelectMany(group => group.Items("rules")).Where(rule => rule.Child("alert") is not null);

    private static YamlMappingNode PrometheusRule() => RenderedManifests.Of("k8s/monitoring").Get("PrometheusRule", "api-gateway");
}
