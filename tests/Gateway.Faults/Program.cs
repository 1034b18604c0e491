using System.Diagnostics;
using System.Globalization;
using System.Text;
using Gateway.Faults;

// scripts/faults.sh: every scenario on one cluster of real processes (2 silos, 3 edges, redis-server on loopback), one at
// a time under steady load; writes the table to the path given (docs/reliability.md) and exits 1 when a must-hold failed.
// "--only <id or text>" runs the scenario with that id (kill, sigstop, rolling, redis-stop, redis-empty, flood, cold,
// config, idle) or whose name contains the text, and writes nothing unless a path is given too.
var only = args.Length > 1 && args[0] == "--only" ? args[1] : null;
var rest = only is null ? args : args[2..];
var output = rest.Length > 0 ? rest[0] : only is null ? Path.Combine(RepositoryLayout.Root, "docs", "reliability.md") : null;
var scenarios = new (string Id, string Name, Func<FaultCluster, Task<ScenarioResult>> Run)[]
{
    ("kill", "kill -9 of a silo", c => ProcessFaults.KillSiloAsync(c, TimeSpan.FromSeconds(10))),
    ("sigstop", "SIGSTOP a silo for 10 s, then SIGCONT", c => ProcessFaults.FreezeSiloAsync(c, TimeSpan.FromSeconds(10))),
    ("rolling", "rolling restart of every silo, then every edge", ProcessFaults.RollingRestartAsync),
    ("redis-stop", "Redis stopped for 20 s", c => RedisFaults.RedisStoppedAsync(c, TimeSpan.FromSeconds(20))),
    ("redis-empty", "Redis restarted empty", RedisFaults.RedisRestartedEmptyAsync),
    ("flood", "100k distinct client keys in 60 s, plus one real client", c => LoadFaults.KeyFloodAsync(c, 100_000, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(45))),
    ("cold", "300 new clients × 8 requests at once", c => LoadFaults.ColdClientsAsync(c, 300)),
    ("config", "gateway.yml rewritten every 100 ms for 30 s", c => LoadFaults.ConfigChurnAsync(c, TimeSpan.FromSeconds(30))),
    ("idle", "10k idle connections plus slow-header clients", c => LoadFaults.IdleConnectionsAsync(c, 10_000, 50, TimeSpan.FromSeconds(40))),
};

if (only is not null)
{
    scenarios = [.. scenarios.Where(s => s.Id == only || s.Name.Contains(only, StringComparison.OrdinalIgnoreCase))];
    if (scenarios.Length == 0)
    {
        Console.Error.WriteLine($"No scenario's name contains \"{only}\".");
        return 2;
    }
}

var started = Stopwatch.StartNew();
var results = new List<ScenarioResult>();
await using (var cluster = await FaultCluster.StartAsync())
{
    foreach (var (_, name, run) in scenarios)
    {
        Console.WriteLine($"[{started.Elapsed:mm\\:ss}] {name} ...");
        ScenarioResult result;
        try
        {
            result = await run(cluster);
        }
        catch (Exception ex)
        {
            result = new ScenarioResult(name, "-", $"the scenario did not complete: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}", "-", "-", false);
        }

        results.Add(result);
        Console.WriteLine($"    {(result.Holds ? "holds" : "DOES NOT HOLD")}: {result.Load}; {result.WhatBroke}; {result.Figures}");
    }
}

if (output is not null)
{
    await File.WriteAllTextAsync(output, Report.Render(results, started.Elapsed));
}

Console.WriteLine($"{results.Count(r => r.Holds)} of {results.Count} scenarios hold{(output is null ? string.Empty : $"; wrote {output}")} in {started.Elapsed.TotalMinutes:0.0} min");
return results.All(r => r.Holds) ? 0 : 1;

/// <summary>The markdown of docs/reliability.md.</summary>
internal static class Report
{
    public static string Render(IReadOnlyList<ScenarioResult> results, TimeSpan took)
    {
        var text = new StringBuilder();
        text.AppendLine("# Reliability: measured behaviour under faults");
        text.AppendLine();
        text.AppendLine("Written by `scripts/faults.sh` from its last run; do not edit by hand. The run starts 2 silos and 3 edges");
        text.AppendLine("over a real `redis-server` on loopback, then runs each scenario in turn under steady load from several client");
        text.AppendLine("loops spread over every edge in rotation (an edge is in rotation while `/health/ready` answers 200, polled every");
        text.AppendLine("250 ms and left out after 2 failed polls in a row as the k8s probe's `failureThreshold: 2` does, and a refused");
        text.AppendLine("connection is retried once on the next edge, as a load balancer does). A request fails when it gets no answer or");
        text.AppendLine("any status but 200 or 429. The hot key's route allows 20 per second with a burst of 20; what is \"due\" is");
        text.AppendLine("burst + rate · t over the run. `on_backend_failure` is the default, `local`.");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Last run: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {took.TotalMinutes:0.0} min; {results.Count(r => r.Holds)} of {results.Count} scenarios hold.");
        text.AppendLine();
        text.AppendLine("| scenario | load | what broke | figures | must hold | holds |");
        text.AppendLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var r in results)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {Cell(r.Scenario)} | {Cell(r.Load)} | {Cell(r.WhatBroke)} | {Cell(r.Figures)} | {Cell(r.MustHold)} | {(r.Holds ? "yes" : "**no**")} |");
        }

        text.AppendLine();
        text.AppendLine("## Kestrel limits of the edge");
        text.AppendLine();
        text.AppendLine("The edge keeps Kestrel's defaults, which the idle-connection row exercises: no cap on concurrent connections");
        text.AppendLine("(`MaxConcurrentConnections` unset; the process's file-descriptor limit is the cap, so raise `ulimit -n` or the");
        text.AppendLine("container's `nofile` for more than a few thousand clients per edge), `KeepAliveTimeout` 130 s (an idle");
        text.AppendLine("connection is closed after that), `RequestHeadersTimeout` 30 s (a client that has not sent its whole header by");
        text.AppendLine("then is closed: slow-header clients cost a socket for at most 30 s), `MaxRequestHeadersTotalSize` 32 KB and");
        text.AppendLine("`MaxRequestLineSize` 8 KB (`431`/`414`), `MinRequestBodyDataRate` 240 bytes/s after a 5 s grace.");
        text.AppendLine();
        text.AppendLine("## Notes");
        text.AppendLine();
        text.AppendLine("- \"Redis stopped\" freezes `redis-server` with SIGSTOP, so it comes back with its data; the next row kills it and");
        text.AppendLine("  starts it empty. Each scenario leaves the cluster whole (a killed or frozen silo is replaced by a new one).");
        text.AppendLine("- The machine is shared and small: latencies are comparable only within a row.");
        text.AppendLine("- The key flood is paced: its keys go out evenly over the stated time (wrk with a per-request delay), not as fast as");
        text.AppendLine("  the edges answer. The real client's figures come with those of a route without a limit, asked right after each of");
        text.AppendLine("  its requests, so the share of its p99 that is the machine rather than the limiter shows.");
        text.AppendLine("- The CI subset (`tests/Gateway.Cluster.Tests/Reliability`) runs the kill -9, SIGSTOP, rolling restart, Redis outage and");
        text.AppendLine("  cold clients scenarios, shorter, on one shared cluster, and asserts the must-hold column. `scripts/test.sh` runs it");
        text.AppendLine("  last, alone on the machine; `scripts/faults.sh subset` runs it by itself.");
        return text.ToString();
    }

    private static string Cell(string value) => value.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
