using System.Text.RegularExpressions;
using Gateway.Deployment.Tests.Infrastructure;

namespace Gateway.Deployment.Tests.Monitoring;

/// <summary>
/// The series names Prometheus can see: the gateway's own instruments, read from the source of
/// <c>GatewayMetrics</c> (histograms add _bucket, _sum and _count), plus the series other components provide.
/// </summary>
public static partial class MetricCatalog
{
    public const string MetricsSource = "src/Gateway.Hosting/Observability/GatewayMetrics.cs";

    /// <summary>Series that come from Prometheus itself (<c>up</c>), kube-state-metrics and the Redis pod's redis_exporter.</summary>
    public static readonly IReadOnlySet<string> External = new HashSet<string>(StringComparer.Ordinal)
    {
        "up", "kube_statefulset_status_replicas_ready", "kube_horizontalpodautoscaler_status_current_replicas", "kube_horizontalpodautoscaler_spec_max_replicas",
        "kube_pod_container_status_restarts_total", "kube_pod_container_status_last_terminated_reason",
        "redis_up", "redis_memory_used_bytes", "redis_memory_max_bytes", "redis_connected_clients", "redis_commands_processed_total",
    };

    /// <summary>Series of Orleans' own meters, exported by the silos (the cluster tests read them from a live silo).</summary>
    public static readonly IReadOnlySet<string> OrleansSilo = new HashSet<string>(StringComparer.Ordinal) { "orleans_grains", "orleans_catalog_activations" };

    /// <summary>The contract's process metrics, which the dashboard charts.</summary>
    public static readonly IReadOnlySet<string> ContractProcessMetrics = new HashSet<string>(StringComparer.Ordinal) { "process_resident_memory_bytes", "process_cpu_seconds_total" };

    private static readonly Lazy<IReadOnlySet<string>> Emitted = new(ReadEmitted);

    /// <summary>Every series name the gateway's own instruments produce.</summary>
    public static IReadOnlySet<string> GatewaySeries => Emitted.Value;

    /// <summary>The metric names of every selector (<c>name{...}</c>) in a PromQL expression.</summary>
    public static IReadOnlyList<string> SelectedMetrics(string expression) =>
        [.. Selector().Matches(expression).Select(match => match.Groups[1].Value).Distinct(StringComparer.Ordinal)];

    private static HashSet<string> ReadEmitted()
    {
        var series = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match match in Instrument().Matches(RepositoryRoot.ReadText(MetricsSource)))
        {
            var name = match.Groups["name"].Value;
            if (match.Groups["kind"].Value == "Histogram")
            {
                series.UnionWith([$"{name}_bucket", $"{name}_sum", $"{name}_count"]);
            }
            else
            {
                series.Add(name);
            }
        }

        return series;
    }

    [GeneratedRegex("""\.Create(?<kind>Counter|UpDownCounter|Histogram|Gauge|ObservableGauge)(?:<\w+>)?\(\s*"(?<name>[a-z0-9_]+)"\s*""")]
    private static partial Regex Instrument();

    [GeneratedRegex("""\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{""")]
    private static partial Regex Selector();
}
