using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Faults;

/// <summary>Hostile or odd load: a key flood, a crowd of new clients, a churning gateway.yml, idle and slow connections.</summary>
public static class LoadFaults
{
    private const int WarmUpKeys = 3000;

    private static readonly TimeSpan WarmUpIdle = TimeSpan.FromSeconds(35);

    /// <summary>
    /// <paramref name="keys"/> distinct client keys within <paramref name="limit"/>, plus one real client at twice its limit
    /// on the same route; then <paramref name="idle"/> without traffic.
    /// </summary>
    public static async Task<ScenarioResult> KeyFloodAsync(FaultCluster cluster, int keys, TimeSpan limit, TimeSpan idle)
    {
        await using var load = await LoadDriver.StartAsync(cluster, clients: 0, hot: false);

        // The baseline is a warm silo's: a first small flood (keys the real one never sends) runs the same code paths,
        // so what stays after the idle is what the keys left behind, not the flood's code loaded and compiled once.
        // The idle after it is longer than two of the silos' idle-memory periods (15 s): the collection that gives the
        // warm-up's memory back is over before the baseline is read and before the real client's idle figures.
        await FloodDriver.Start(cluster, load, WarmUpKeys, TimeSpan.FromSeconds(20), firstKey: keys + 1).Completion;
        await Task.Delay(WarmUpIdle);
        var baseline = await SiloMiBAsync(cluster);
        await PrintSiloMemoryAsync(cluster, "baseline");
        var activationsBefore = await SiloActivationsAsync(cluster);
        // 20 s: about 400 requests, so the idle p99 is not just the second-slowest of a handful.
        var idleReal = await RealClientAsync(load, TimeSpan.FromSeconds(20), null);

        var floodStart = load.Now;
        var peak = baseline;
        var activationsPeak = activationsBefore;
        var flood = FloodDriver.Start(cluster, load, keys, limit, firstKey: 1);
        var sampler = Task.Run(async () =>
        {
            while (!flood.Completion.IsCompleted)
            {
                peak = Math.Max(peak, await SiloMiBAsync(cluster));
                activationsPeak = Math.Max(activationsPeak, await SiloActivationsAsync(cluster));
                await Task.Delay(TimeSpan.FromSeconds(3));
            }
        });
        var floodReal = await RealClientAsync(load, null, flood.Completion);
        var (floodKeys, floodFailed) = await flood.Completion;
        await sampler;
        var floodSeconds = load.Now - floodStart;
        await PrintSiloMemoryAsync(cluster, "flood over");

        await Task.Delay(idle);
        var after = await SiloMiBAsync(cluster);
        await PrintSiloMemoryAsync(cluster, "after the idle");
        var activationsAfter = await SiloActivationsAsync(cluster);
        var growth = Math.Max(0, peak - baseline);
        var memoryBack = after <= baseline + Math.Max(32, 0.25 * growth);
        var exact = floodReal.Exact && idleReal.Exact;
        var fastEnough = floodReal.P99 <= 2 * Math.Max(idleReal.P99, 1);
        return new ScenarioResult(
            $"{keys / 1000}k distinct client keys in {limit.TotalSeconds:0} s, plus one real client",
            $"{WarmUpKeys} keys to warm up, {WarmUpIdle.TotalSeconds:0} s idle, then {floodKeys} new keys sent in {Text.F(floodSeconds)} s ({Text.F(floodKeys / floodSeconds, "0")}/s, {flood.Description}) over every edge; the real client at 2× its 10/s limit",
            floodKeys < keys ? $"the load driver reached only {floodKeys} keys in the time" : floodFailed > 0 ? $"{floodFailed} flood requests failed" : "nothing",
            $"silo RSS (sum of silos) {Text.F(baseline, "0")} MiB before, {Text.F(peak, "0")} MiB peak, {Text.F(after, "0")} MiB after {idle.TotalSeconds:0} s idle (grain activations {activationsBefore:0} / {activationsPeak:0} / {activationsAfter:0}); real client admitted {floodReal.Admitted} of {floodReal.Sent} in {Text.F(floodReal.Seconds)} s where {floodReal.Ideal} were due ({(floodReal.Exact ? "exact" : "NOT exact")}); its p99 {Text.F(idleReal.P99)} ms idle, {Text.F(floodReal.P99)} ms during the flood (a route without a limit, asked right after each: {Text.F(idleReal.ControlP99)} and {Text.F(floodReal.ControlP99)} ms)",
            "memory returns to baseline after idle; real client exact; its p99 ≤ 2× idle",
            memoryBack && exact && fastEnough);
    }

    /// <summary><paramref name="clients"/> never-seen clients each send 8 requests at once, spread over every edge.</summary>
    public static async Task<ScenarioResult> ColdClientsAsync(FaultCluster cluster, int clients)
    {
        await using var load = await LoadDriver.StartAsync(cluster, clients: 0, hot: false);
        var run = Random.Shared.Next(1, 250);
        var localBefore = await cluster.BackendFailuresAsync("local_admitted") + await cluster.BackendFailuresAsync("local_denied");
        var requests = Enumerable.Range(0, clients).SelectMany(client => Enumerable.Range(0, 8).Select(async _ =>
            (Client: client, Outcome: await load.SendAsync("/api/cold/x", $"100.{run}.{client >> 8}.{client & 255}", false, CancellationToken.None)))).ToList();
        var results = await Task.WhenAll(requests);
        var localAfter = await cluster.BackendFailuresAsync("local_admitted") + await cluster.BackendFailuresAsync("local_denied");

        var ideal = clients * FaultCluster.ColdBurst;
        var admitted = results.Count(r => r.Outcome.Status == 200);
        var over = results.GroupBy(r => r.Client).Sum(g => Math.Max(0, g.Count(r => r.Outcome.Status == 200) - FaultCluster.ColdBurst));
        var failed = results.Count(r => r.Outcome.Failed);
        var p99 = Window.Percentile(results.Select(r => r.Outcome.LatencyMs).ToList(), 0.99);
        return new ScenarioResult(
            $"{clients} new clients × 8 requests at once across {cluster.LiveEdges.Count()} edges",
            $"{results.Length} requests at once, each client's spread over every edge; limit {FaultCluster.ColdBurst} per minute (burst {FaultCluster.ColdBurst})",
            failed == 0 ? "nothing" : $"{failed} failed",
            $"admitted {admitted} where {ideal} were due; over-admission {over} ({Text.F(100.0 * over / ideal, "0.00")}% of ideal); {localAfter - localBefore} decisions made by local buckets (budget missed); p99 {Text.F(p99, "0")} ms",
            "over-admission ≤ 1% of the ideal admissions",
            over <= ideal / 100 && failed == 0);
    }

    /// <summary>gateway.yml rewritten every 100 ms for <paramref name="duration"/>, valid and invalid versions alternating.</summary>
    public static async Task<ScenarioResult> ConfigChurnAsync(FaultCluster cluster, TimeSpan duration)
    {
        await using var load = await LoadDriver.StartAsync(cluster);
        var successBefore = await SumOverEdgesAsync(cluster, "gateway_config_reloads_total", "result=\"success\"");
        var failureBefore = await SumOverEdgesAsync(cluster, "gateway_config_reloads_total", "result=\"failure\"");
        var writes = 0;
        var start = load.Now;
        while (load.Now - start < duration.TotalSeconds)
        {
            var content = writes % 2 == 0
                ? FaultCluster.Config(cluster.Upstream.Address, 100_000 + (writes % 4))
                : FaultCluster.Config(cluster.Upstream.Address).Replace("period: 60s", "period: sixty", StringComparison.Ordinal);
            await File.WriteAllTextAsync(cluster.Cluster.ConfigPath, content);
            writes++;
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        await File.WriteAllTextAsync(cluster.Cluster.ConfigPath, FaultCluster.Config(cluster.Upstream.Address));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var end = load.Now;
        await load.StopAsync();
        var successes = await SumOverEdgesAsync(cluster, "gateway_config_reloads_total", "result=\"success\"") - successBefore;
        var failures = await SumOverEdgesAsync(cluster, "gateway_config_reloads_total", "result=\"failure\"") - failureBefore;
        var window = new Window(load.Outcomes, 0, end);
        return new ScenarioResult(
            $"gateway.yml rewritten every 100 ms for {duration.TotalSeconds:0} s (valid and invalid alternating)",
            ProcessFaults.Load(window, end) + $"; {writes} writes",
            window.Failures.Count == 0 ? "nothing" : $"{window.Failures.Count} failed ({window.FailureKinds()})",
            $"{window.Failures.Count} failed requests; reloads counted over the edges: {successes} applied, {failures} rejected; p99 {Text.F(window.P99(), "0")} ms",
            "0 failed requests",
            window.Failures.Count == 0);
    }

    /// <summary><paramref name="idle"/> idle TCP connections and <paramref name="slow"/> slow-header clients while the normal load runs.</summary>
    public static async Task<ScenarioResult> IdleConnectionsAsync(FaultCluster cluster, int idle, int slow, TimeSpan hold)
    {
        await using var load = await LoadDriver.StartAsync(cluster);
        await Task.Delay(TimeSpan.FromSeconds(8));
        var beforeEnd = load.Now;
        var edges = cluster.LiveEdges.ToList();
        var sockets = new ConcurrentBag<Socket>();
        var refused = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, idle), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(edges[i % edges.Count].Client.BaseAddress!.Host, edges[i % edges.Count].Client.BaseAddress!.Port, ct);
                sockets.Add(socket);
            }
            catch (SocketException)
            {
                Interlocked.Increment(ref refused);
                socket.Dispose();
            }
        });

        var slowSockets = new List<Socket>();
        for (var i = 0; i < slow; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(edges[i % edges.Count].Client.BaseAddress!.Host, edges[i % edges.Count].Client.BaseAddress!.Port);
            await socket.SendAsync(Encoding.ASCII.GetBytes("GET /api/steady/slow HTTP/1.1\r\nHost: x\r\nX-Slow: "));
            slowSockets.Add(socket);
        }

        var holdStart = load.Now;
        var slowClosedAt = new ConcurrentDictionary<int, double>();
        while (load.Now - holdStart < hold.TotalSeconds)
        {
            for (var i = 0; i < slowSockets.Count; i++)
            {
                if (slowClosedAt.ContainsKey(i))
                {
                    continue;
                }

                try
                {
                    await slowSockets[i].SendAsync(new[] { (byte)'a' });
                }
                catch (SocketException)
                {
                    slowClosedAt[i] = load.Now - holdStart;
                }
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        var end = load.Now;
        await load.StopAsync();
        foreach (var socket in sockets.Concat(slowSockets))
        {
            socket.Dispose();
        }

        var before = new Window(load.Outcomes, 0, beforeEnd);
        var during = new Window(load.Outcomes, holdStart, end);
        var closed = slowClosedAt.IsEmpty ? "none closed by the edge" : $"{slowClosedAt.Count} closed by the edge after {Text.F(slowClosedAt.Values.Min(), "0")}–{Text.F(slowClosedAt.Values.Max(), "0")} s";
        return new ScenarioResult(
            $"{idle / 1000}k idle connections plus slow-header clients",
            $"{sockets.Count} idle connections held ({refused} refused) and {slow} clients sending one header byte every 2 s, for {hold.TotalSeconds:0} s, while the normal load runs",
            during.Failures.Count == 0 ? "nothing" : $"{during.Failures.Count} normal requests failed ({during.FailureKinds()})",
            $"normal clients' p99 {Text.F(before.P99(), "0")} ms before, {Text.F(during.P99(), "0")} ms with the connections held; slow-header clients: {closed}",
            "served; Kestrel limits documented",
            during.Failures.Count == 0 && refused == 0);
    }

    /// <summary>Each silo's RSS and GC-committed memory, and the idle trims it logged (event 11): printed, to tell what stayed.</summary>
    private static async Task PrintSiloMemoryAsync(FaultCluster cluster, string when)
    {
        foreach (var silo in cluster.LiveSilos.ToList())
        {
            var committed = await FaultCluster.MetricAsync(silo, "dotnet_gc_last_collection_memory_committed_size_bytes") / (1024 * 1024);
            var trims = silo.Process.Output.Count(l => l.Contains("Memory.IdleMemoryTrim", StringComparison.Ordinal));
            var last = silo.Process.Output.LastOrDefault(l => l.Contains("Memory.IdleMemoryTrim", StringComparison.Ordinal)) is { } line && line.Contains("\"message\":\"", StringComparison.Ordinal)
                ? $" (last: {line.Split("\"message\":\"")[1].Split('"')[0]})"
                : string.Empty;
            Console.WriteLine($"    {when}: {silo.Process.Name} RSS {Text.F(await FaultCluster.ResidentMiBAsync(silo), "0")} MiB, GC committed {Text.F(committed, "0")} MiB, {trims} idle trims so far{last}");
        }
    }

    private static async Task<double> SiloMiBAsync(FaultCluster cluster)
    {
        var total = 0.0;
        foreach (var silo in cluster.LiveSilos.ToList())
        {
            total += await FaultCluster.ResidentMiBAsync(silo);
        }

        return total;
    }

    private static async Task<double> SiloActivationsAsync(FaultCluster cluster)
    {
        var total = 0.0;
        foreach (var silo in cluster.LiveSilos.ToList())
        {
            total += await FaultCluster.MetricAsync(silo, "orleans_catalog_activations");
        }

        return total;
    }

    internal static async Task<double> SumOverEdgesAsync(FaultCluster cluster, string series, string labels)
    {
        var total = 0.0;
        foreach (var edge in cluster.LiveEdges.ToList())
        {
            total += await FaultCluster.MetricAsync(edge, series, labels);
        }

        return total;
    }

    /// <summary>The real client: 20 requests a second (twice its limit) for <paramref name="duration"/> or until <paramref name="until"/> ends.</summary>
    private static async Task<RealClient> RealClientAsync(LoadDriver load, TimeSpan? duration, Task? until)
    {
        var key = $"203.0.113.{Random.Shared.Next(100, 250)}";
        var start = load.Now;
        var outcomes = new List<Outcome>();
        var control = new List<Outcome>();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (await timer.WaitForNextTickAsync())
        {
            if ((duration is { } d && load.Now - start >= d.TotalSeconds) || until?.IsCompleted == true)
            {
                break;
            }

            outcomes.Add(await load.SendAsync("/api/flood/x", key, false, CancellationToken.None));
            control.Add(await load.SendAsync("/api/open/x", key, false, CancellationToken.None));
        }

        var seconds = load.Now - start;
        var admitted = outcomes.Count(o => o.Status == 200);
        var ideal = FaultCluster.FloodRequests + (long)Math.Floor(FaultCluster.FloodRequests * seconds);
        var sustained = (long)Math.Floor(FaultCluster.FloodRequests * seconds * 0.9);
        var p99 = Window.Percentile(outcomes.Where(o => !o.Failed).Select(o => o.LatencyMs).ToList(), 0.99);
        var controlP99 = Window.Percentile(control.Where(o => !o.Failed).Select(o => o.LatencyMs).ToList(), 0.99);
        return new RealClient(outcomes.Count, admitted, ideal, seconds, admitted <= ideal && (admitted >= sustained || admitted >= outcomes.Count - 1), p99, controlP99);
    }

    private sealed record RealClient(int Sent, int Admitted, long Ideal, double Seconds, bool Exact, double P99, double ControlP99);
}
