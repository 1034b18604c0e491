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

    /// <summary>Series that come from Prometheus itself (<c>up</c>) and from kube-state-metrics.</summary>
    public static readonly IReadOnlySet<string> External = new HashSet<string>(StringComparer.Ordinal) { "up", "kube_statefulset_status_replicas_ready" };

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
