using System.Diagnostics;
using System.Globalization;
using Gateway.Hosting.Configuration;

namespace Gateway.Benchmarks;

/// <summary>
/// Exact mode with many distinct clients against a silo process: the silo's CPU per decision (from /proc), the
/// decisions that missed the 50 ms budget, and the silo's bytes per active bucket (RSS after a forced GC, before and
/// after the clients' buckets exist). Random keys, so coalescing per bucket hides nothing.
/// </summary>
internal static class ManyClientsRun
{
    private static readonly RateLimitPolicy Unlimited = new(10_000_000, TimeSpan.FromSeconds(1), 10_000_000);

    /// <summary>Embedded: the edge and its co-hosted silo in this process; the CPU figures are the whole process's.</summary>
    public static async Task<int> RunEmbeddedAsync(int clients, TimeSpan duration)
    {
        await using var host = await BenchmarkHost.StartAsync("exact", gatewayPort: null, "bench", "bench-embedded");
        await RunAsync(Environment.ProcessId, host, host.Grains.GetGrain<IManagementGrain>(0), clients, duration, inFlight: 256, "embedded (edge and silo in one process)");
        return 0;
    }

    public static async Task RunAsync(int siloPid, BenchmarkHost edge, IManagementGrain management, int clients, TimeSpan duration, int inFlight, string what = "clustered, silo process")
    {
        Console.WriteLine(FormattableString.Invariant($"== exact mode, {what}, {clients} distinct clients, {inFlight} in flight, {duration.TotalSeconds:F0} s =="));
        var silos = (await management.GetHosts(onlyActive: true)).Keys.ToArray();
        await management.ForceGarbageCollection(silos);
        var rssEmpty = LoadRun.Rss(siloPid);
        var keys = Enumerable.Range(0, clients).Select(i => "ip:100.64." + (i >> 8) + "." + (i & 255)).ToArray();

        // Every bucket once (activations, JIT), then the timed run.
        var first = await DriveAsync(edge, keys, inFlight, TimeSpan.MaxValue, clients);
        Console.WriteLine(FormattableString.Invariant($"first decision of each new key, {inFlight} in flight: p50 {first.P50:F2} ms, p99 {first.P99:F2} ms, max {first.Max:F1} ms, over 50 ms: {first.Missed}"));
        await management.ForceGarbageCollection(silos);
        var rssActive = LoadRun.Rss(siloPid);
        Console.WriteLine(FormattableString.Invariant($"silo RSS after forced GC {rssEmpty / 1048576.0:F1} MiB -> {rssActive / 1048576.0:F1} MiB with {clients} buckets: {(rssActive - rssEmpty) / (double)clients:F0} bytes per active bucket"));

        // A new key now and then while the cluster is otherwise idle: what the first decision of a new client costs.
        var fresh = Enumerable.Range(0, 200).Select(i => "ip:100.127." + (i >> 8) + "." + (i & 255)).ToArray();
        var cold = await DriveAsync(edge, fresh, 1, TimeSpan.MaxValue, fresh.Length);
        Console.WriteLine(FormattableString.Invariant($"first decision of a new key, one at a time: p50 {cold.P50:F2} ms, p99 {cold.P99:F2} ms, max {cold.Max:F1} ms, over 50 ms: {cold.Missed}"));

        // What the process spends with no decisions at all (membership, timers, dashboard, tiered JIT), for comparison.
        var idlePerSecond = await IdleCpuAsync(siloPid, "before the run");

        var cpuBefore = CpuTicks(siloPid);
        var batchingBefore = edge.Limiter.ExactBatching;
        var run = await DriveAsync(edge, keys, inFlight, duration, int.MaxValue);
        var cpuSeconds = (CpuTicks(siloPid) - cpuBefore) / 100.0;
        var batching = edge.Limiter.ExactBatching;
        var calls = batching.Calls - batchingBefore.Calls;
        await IdleCpuAsync(siloPid, "after the run");
        Console.WriteLine(FormattableString.Invariant($"{calls} grain calls carried {batching.Requests - batchingBefore.Requests} requests: {(batching.Requests - batchingBefore.Requests) / (double)calls:F2} per call; CPU {cpuSeconds * 1e6 / calls:F1} us per call"));
        Console.WriteLine(FormattableString.Invariant($"{run.Count} decisions in {run.Seconds:F1} s ({run.Count / run.Seconds:F0}/s): CPU {cpuSeconds:F2} s = {cpuSeconds * 1e6 / run.Count:F1} us per decision ({(cpuSeconds - (idlePerSecond * run.Seconds)) * 1e6 / run.Count:F1} us above idle); p50 {run.P50:F2} ms, p99 {run.P99:F2} ms, max {run.Max:F1} ms; over the 50 ms budget: {run.Missed}"));
    }

    private static async Task<Result> DriveAsync(BenchmarkHost edge, string[] keys, int inFlight, TimeSpan duration, int count)
    {
        var samples = new List<double>[inFlight];
        var next = -1;
        var missed = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async worker =>
        {
            var mine = samples[worker] = [];
            var random = new Random(worker);
            int i;
            while (clock.Elapsed < duration && (i = Interlocked.Increment(ref next)) < count)
            {
                var key = count == int.MaxValue ? keys[random.Next(keys.Length)] : keys[i];
                var start = Stopwatch.GetTimestamp();
                var decision = await edge.Limiter.AcquireAsync("default", Unlimited, key, CancellationToken.None);
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                if (decision.BackendUnavailable)
                {
                    Interlocked.Increment(ref missed);
                }
            }
        }));
        var all = samples.SelectMany(s => s).Order().ToArray();
        return new Result(all.Length, clock.Elapsed.TotalSeconds, all[all.Length / 2], all[(int)(all.Length * 0.99)], all[^1], missed);
    }

    private static async Task<double> IdleCpuAsync(int pid, string when)
    {
        var before = CpuTicks(pid);
        await Task.Delay(TimeSpan.FromSeconds(5));
        var perSecond = (CpuTicks(pid) - before) / 100.0 / 5;
        Console.WriteLine(FormattableString.Invariant($"idle {when}: {perSecond * 1000:F0} ms CPU per second"));
        return perSecond;
    }

    private static long CpuTicks(int pid)
    {
        var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    private readonly record struct Result(int Count, double Seconds, double P50, double P99, double Max, int Missed);
}
