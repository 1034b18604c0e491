using System.Text.Json;
using Gateway.Deployment.Tests.Infrastructure;

namespace Gateway.Deployment.Tests.Monitoring;

/// <summary>The Grafana dashboard ConfigMap: loadable by the sidecar, with the runbook's panels, on real series.</summary>
public sealed class DashboardTests
{
    private static readonly string[] RunbookPanels =
    [
        "Request rate", "Latency P95 / P99", "Error rate (5xx share)", "Auth failures by reason", "Rate-limit rejections (429)",
        "Upstream errors", "Upstream latency P95", "Redis operation latency P95", "Active connections", "Memory (resident)", "CPU", "Pods ready",
        "Silos up and grain activations", "Rate limiter: decisions without the grains", "Config reloads", "Redis memory (used / maxmemory)",
        "Redis up, clients and commands", "Container restarts (15m)",
    ];

    [Fact]
    public void Dashboard_ConfigMap_IsLabelledForTheGrafanaSidecarAndHasTheRunbooksPanels()
    {
        var configMap = RenderedManifests.Of("k8s/monitoring").Get("ConfigMap", "api-gateway-dashboard");
        var json = configMap.Text("data", "api-gateway.json");

        Assert.Equal("1", configMap.Text("metadata", "labels", "grafana_dashboard"));
        Assert.NotNull(json);
        using var dashboard = JsonDocument.Parse(json);
        var titles = dashboard.RootElement.GetProperty("panels").EnumerateArray().Select(panel => panel.GetProperty("title").GetString()).ToList();
        Assert.All(RunbookPanels, title => Assert.Contains(title, titles));
        Assert.Equal("api-gateway", dashboard.RootElement.GetProperty("uid").GetString());
    }

    [Fact]
    public void Dashboard_Queries_UseSeriesTheGatewayOrKubernetesProvide()
    {
        using var dashboard = JsonDocument.Parse(RepositoryRoot.ReadText("k8s/monitoring/dashboards/api-gateway.json"));
        var used = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(panel => panel.GetProperty("targets").EnumerateArray())
            .SelectMany(target => MetricCatalog.SelectedMetrics(target.GetProperty("expr").GetString()!))
            .ToHashSet(StringComparer.Ordinal);
        var unknown = used
            .Where(name => !MetricCatalog.GatewaySeries.Contains(name) && !MetricCatalog.External.Contains(name) && !MetricCatalog.ContractProcessMetrics.Contains(name) && !MetricCatalog.OrleansSilo.Contains(name))
            .ToList();

        Assert.Contains("gateway_upstream_errors_total", used);
        Assert.Contains("gateway_redis_operation_duration_seconds_bucket", used);
        Assert.Contains("gateway_active_connections", used);
        foreach (var series in new[] { "orleans_catalog_activations", "gateway_ratelimit_backend_failures_total", "gateway_config_reloads_total", "redis_memory_used_bytes", "redis_up" })
        {
            Assert.Contains(series, used);
        }

        Assert.True(unknown.Count == 0, $"Dashboard queries use unknown series: {string.Join(", ", unknown)}");
    }
}
