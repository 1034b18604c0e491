using System.Globalization;
using System.Text.RegularExpressions;

namespace Gateway.Cluster.Tests.Observability;

/// <summary>What the silos' and the edge's <c>/metrics</c> show of a running cluster over a real redis-server.</summary>
[Collection(ObservedCluster.Collection)]
public sealed partial class ClusterMetricsTests(ObservedCluster fixture)
{
    private static readonly TimeSpan ScrapeTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task SiloMetrics_ClusterRunning_RedisMembershipOperationsTimed()
    {
        var silo = fixture.Cluster.Silos[0];

        // Membership reads the table (hgetall) on every refresh and writes it through a script (eval) on I-am-alive.
        var text = await ObservedCluster.ScrapeUntilAsync(silo, t => SeriesCount(t, "hgetall") > 0 && HasAnyWrite(t), ScrapeTimeout, "hgetall and a membership write timed");

        Assert.True(SeriesCount(text, "hgetall") > 0, "no hgetall timed on the silo:\n" + RedisLines(text));
        Assert.True(HasAnyWrite(text), "no membership write timed on the silo:\n" + RedisLines(text));
        Assert.Matches(RedisBucket(), text);
    }

    [Fact]
    public async Task EdgeMetrics_ClientOfRedisMembership_RedisOperationsTimed()
    {
        // The edge reads the gateway list from the membership table in Redis.
        var text = await ObservedCluster.ScrapeUntilAsync(fixture.Edge, t => SeriesCount(t, "hgetall") > 0, ScrapeTimeout, "hgetall timed");

        Assert.True(SeriesCount(text, "hgetall") > 0, "no hgetall timed on the edge:\n" + RedisLines(text));
    }

    [Fact]
    public async Task SiloMetrics_AfterGrainCalls_ExposeOrleansGrainAndActivationCounts()
    {
        // Readiness calls the probe grain, so at least one ClusterProbeGrain activation exists somewhere.
        using (var ready = await fixture.Edge.Client.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
        }

        var total = 0.0;
        foreach (var silo in fixture.Cluster.Silos)
        {
            var text = await ObservedCluster.ScrapeUntilAsync(silo, t => t.Contains("orleans_grains{", StringComparison.Ordinal), ScrapeTimeout, "orleans_grains");
            Assert.Contains("# TYPE orleans_grains ", text, StringComparison.Ordinal);
            Assert.Contains("# TYPE orleans_catalog_activations ", text, StringComparison.Ordinal);
            total += ProbeGrainCount().Matches(text).Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        Assert.True(total >= 1, "no silo counts a clusterprobe grain in orleans_grains");
    }

    [Fact]
    public async Task EdgeMetrics_AfterRequests_ContractSeriesWithBoundedLabels()
    {
        using (var ok = await fixture.Edge.Client.GetAsync(new Uri("/api/users/12345?x=1", UriKind.Relative)))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, ok.StatusCode);
        }

        using (var bad = await fixture.Edge.Client.GetAsync(new Uri("/down/thing", UriKind.Relative)))
        {
            Assert.Equal(System.Net.HttpStatusCode.BadGateway, bad.StatusCode);
        }

        var text = await ObservedCluster.ScrapeUntilAsync(fixture.Edge, t => t.Contains("gateway_upstream_errors_total{", StringComparison.Ordinal), ScrapeTimeout, "gateway_upstream_errors_total");

        Assert.Matches("""gateway_requests_total\{[^}]*route="echo"[^}]*status="200"[^}]*\} [1-9]""", text);
        Assert.Matches("""gateway_request_duration_seconds_bucket\{[^}]*method="GET"[^}]*route="echo"[^}]*le="\+Inf"\} [1-9]""", text);
        Assert.Matches("""gateway_upstream_duration_seconds_count\{[^}]*upstream="echo"[^}]*\} [1-9]""", text);
        Assert.Matches("""gateway_upstream_errors_total\{[^}]*kind="unreachable"[^}]*upstream="down"[^}]*\} [1-9]""", text);
        Assert.Matches("""(?m)^gateway_active_connections\{[^}]*\} \d""", text);
        Assert.Matches("""(?m)^gateway_log_lines_dropped_total(\{[^}]*\})? 0""", text);
        Assert.Matches("""(?m)^process_resident_memory_bytes\{[^}]*\} [1-9]""", text);
        Assert.Matches("""(?m)^process_cpu_seconds_total\{[^}]*\} \d""", text);
        // No label carries the path's id (a sample's value may well contain the digits: 0.123458 seconds).
        Assert.DoesNotMatch("""\{[^}]*12345[^}]*\}""", text);
    }

    private static int SeriesCount(string text, string operation) =>
        RedisCount().Matches(text).Count(m => m.Groups["op"].Value == operation && m.Groups["n"].Value != "0");

    private static bool HasAnyWrite(string text) =>
        RedisCount().Matches(text).Any(m => m.Groups["op"].Value is "eval" or "evalsha" or "hset" or "hsetnx" or "exec" && m.Groups["n"].Value != "0");

    private static string RedisLines(string text) =>
        string.Join('\n', text.Split('\n').Where(line => line.StartsWith("gateway_redis", StringComparison.Ordinal)));

    [GeneratedRegex("""gateway_redis_operation_duration_seconds_count\{[^}]*operation="(?<op>[a-z_.]+)"[^}]*\} (?<n>\d+)""")]
    private static partial Regex RedisCount();

    [GeneratedRegex("""gateway_redis_operation_duration_seconds_bucket\{[^}]*le="0\.001"[^}]*\} \d""")]
    private static partial Regex RedisBucket();

    [GeneratedRegex("""orleans_grains\{[^}]*grain_type="clusterprobe"[^}]*\} (\d+(?:\.\d+)?)""")]
    private static partial Regex ProbeGrainCount();
}
