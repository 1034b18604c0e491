using System.Diagnostics;

namespace Gateway.Cluster.Tests.Observability;

/// <summary>
/// <c>promtool check metrics</c> (Debian's <c>prometheus</c> package) on live scrapes: the whole scrape of every kind of
/// process (clustered edge, silo, embedded edge) passes without a single finding, Orleans' own series included.
/// </summary>
[Collection(ObservedCluster.Collection)]
public sealed class PromtoolScrapeTests(ObservedCluster fixture)
{
    [Fact]
    public async Task PromtoolCheckMetrics_EdgeScrapeOfGatewayFamilies_PassesWithoutFindings()
    {
        await SendTrafficAsync();
        var scrape = await ObservedCluster.ScrapeUntilAsync(fixture.Edge, t => t.Contains("gateway_redis_operation_duration_seconds_bucket{", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "gateway_redis_operation_duration_seconds_bucket");
        var ours = OwnFamilies(scrape);

        var (exitCode, output) = await CheckMetricsAsync(ours);

        foreach (var family in new[] { "gateway_requests_total", "gateway_request_duration_seconds", "gateway_upstream_errors_total", "gateway_upstream_duration_seconds", "gateway_active_connections", "gateway_redis_operation_duration_seconds", "process_resident_memory_bytes", "process_cpu_seconds_total" })
        {
            Assert.Contains($"# TYPE {family} ", ours, StringComparison.Ordinal);
        }

        Assert.True(exitCode == 0, $"promtool check metrics exited {exitCode}:\n{output}");
        Assert.Equal(string.Empty, output.Trim());
    }

    [Fact]
    public async Task PromtoolCheckMetrics_WholeEdgeScrape_PassesWithoutFindings()
    {
        await SendTrafficAsync();
        var scrape = await fixture.Edge.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        var (exitCode, output) = await CheckMetricsAsync(scrape);

        Assert.Contains("dotnet_gc_collections_total", scrape, StringComparison.Ordinal);
        Assert.DoesNotContain("\norleans_", scrape, StringComparison.Ordinal);
        Assert.True(exitCode == 0, $"promtool check metrics exited {exitCode} on the edge scrape:\n{output}");
        Assert.Equal(string.Empty, output.Trim());
    }

    [Fact]
    public async Task PromtoolCheckMetrics_WholeSiloScrape_PassesWithoutFindings()
    {
        await SendTrafficAsync();
        ClusterNode node = fixture.Cluster.Silos[0];
        var scrape = await ObservedCluster.ScrapeUntilAsync(node, t => t.Contains("orleans_grains{", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "orleans_grains");

        var (exitCode, output) = await CheckMetricsAsync(scrape);

        AssertOrleansSeriesDescribed(scrape);
        Assert.Contains("gateway_redis_operation_duration_seconds_bucket{", scrape, StringComparison.Ordinal);
        Assert.True(exitCode == 0, $"promtool check metrics exited {exitCode} on the silo scrape:\n{output}");
        Assert.Equal(string.Empty, output.Trim());
    }

    [Fact]
    public async Task PromtoolCheckMetrics_WholeEmbeddedEdgeScrape_PassesWithoutFindings()
    {
        // Embedded mode: no REDIS_CONNECTION, the edge hosts its own silo (on free loopback ports) in the same process.
        var directory = Directory.CreateTempSubdirectory("gateway-embedded-");
        var config = Path.Combine(directory.FullName, "gateway.yml");
        await File.WriteAllTextAsync(config, $$"""
            upstreams:
              echo: { destinations: ["{{fixture.Upstream.Address}}"] }
            routes:
              - { id: echo, path: "/api/{**rest}", upstream: echo }
            """);
        var http = FreePort.Next();
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{http}",
            ["GATEWAY_CONFIG"] = config,
            ["ORLEANS_SILO_PORT"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ORLEANS_GATEWAY_PORT"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SESSION_SECRET"] = ObservedCluster.SessionSecret,
            ["SHUTDOWN_DRAIN_DELAY"] = "1s",
            ["DOTNET_gcServer"] = "0",
        };
        try
        {
            await using var edge = new EdgeNode(ChildProcess.StartDotnet("edge-embedded", "Gateway.Edge", environment), http);
            await edge.WaitReadyAsync(TimeSpan.FromSeconds(60));
            using var ok = await edge.Client.GetAsync(new Uri("/api/promtool", UriKind.Relative));
            Assert.Equal(System.Net.HttpStatusCode.OK, ok.StatusCode);
            var scrape = await ObservedCluster.ScrapeUntilAsync(edge, t => t.Contains("gateway_requests_total{", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "gateway_requests_total");

            var (exitCode, output) = await CheckMetricsAsync(scrape);

            Assert.Contains("gateway_requests_total{", scrape, StringComparison.Ordinal);
            AssertOrleansSeriesDescribed(scrape);
            Assert.True(exitCode == 0, $"promtool check metrics exited {exitCode} on the embedded edge's scrape:\n{output}");
            Assert.Equal(string.Empty, output.Trim());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>What the dashboard and the runbook read from a silo is there, with help text; no millisecond series is.</summary>
    private static void AssertOrleansSeriesDescribed(string scrape)
    {
        Assert.Contains("# HELP orleans_grains ", scrape, StringComparison.Ordinal);
        Assert.Contains("# HELP orleans_catalog_activations ", scrape, StringComparison.Ordinal);
        Assert.DoesNotContain("_milliseconds", scrape, StringComparison.Ordinal);
    }

    /// <summary>The HELP, TYPE and sample lines of the gateway's own families.</summary>
    internal static string OwnFamilies(string scrape) =>
        string.Join('\n', scrape.Split('\n').Where(line => IsOurs(line.StartsWith("# ", StringComparison.Ordinal) ? line.Split(' ')[2] : line))) + "\n";

    private static bool IsOurs(string nameOrSample) =>
        nameOrSample.StartsWith("gateway_", StringComparison.Ordinal) || nameOrSample.StartsWith("process_", StringComparison.Ordinal);

    private async Task SendTrafficAsync()
    {
        using var ok = await fixture.Edge.Client.GetAsync(new Uri("/api/promtool", UriKind.Relative));
        using var bad = await fixture.Edge.Client.GetAsync(new Uri("/down/promtool", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.BadGateway, bad.StatusCode);
    }

    private static async Task<(int ExitCode, string Output)> CheckMetricsAsync(string exposition)
    {
        var info = new ProcessStartInfo(LocatePromtool())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("check");
        info.ArgumentList.Add("metrics");
        using var process = Process.Start(info) ?? throw new InvalidOperationException("promtool did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(exposition);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string LocatePromtool() =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin")
            .Select(dir => Path.Combine(dir, "promtool"))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("promtool is not installed: install Debian's `prometheus` package (apt-get install prometheus).");
}
