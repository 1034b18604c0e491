using System.Diagnostics;
using System.Globalization;
using Gateway.Grains.Contracts;
using Gateway.Hosting.Configuration;
using Gateway.Testing;

namespace Gateway.Benchmarks;

/// <summary>
/// The load run: a clustered silo as its own process over a redis-server on loopback, this process as the edge (an
/// Orleans client with the edge's limiter). Every figure is printed next to a baseline measured the same way in the same run: a raw grain ping.
/// </summary>
internal static class LoadRun
{
    private static readonly RateLimitPolicy Unlimited = new(10_000_000, TimeSpan.FromSeconds(1), 10_000_000);

    public static async Task<int> RunAsync(int buckets, int? manyClients = null)
    {
        var serviceId = "bench";
        var clusterId = "bench-" + Guid.NewGuid().ToString("N")[..6];
        var gatewayPort = FreePort.Next();
        var httpPort = FreePort.Next();
        var directory = Directory.CreateTempSubdirectory("gateway-bench-silo-").FullName;
        var configPath = Path.Combine(directory, "gateway.yml");
        await File.WriteAllTextAsync(configPath, BenchmarkHost.Yaml("exact"));

        // The silo runs clustered as in production: Redis membership, bucket checkpoints in Redis, the strongly
        // consistent grain directory.
        await using var redis = await RedisServer.StartAsync();
        await using var silo = ChildProcess.StartDotnet("silo", "Gateway.Silo", new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{httpPort}",
            ["GATEWAY_CONFIG"] = configPath,
            ["REDIS_CONNECTION"] = redis.ConnectionString,
            ["ORLEANS_ADVERTISED_IP"] = "127.0.0.1",
            ["ADMIN_TOKEN"] = "bench-admin-token-0123456789abcdefghij",
            ["SESSION_SECRET"] = "bench-secret-0123456789abcdef0123456789abcdef",
            [EnvironmentVariables.SiloPort] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            [EnvironmentVariables.GatewayPort] = gatewayPort.ToString(CultureInfo.InvariantCulture),
            [EnvironmentVariables.ServiceId] = serviceId,
            [EnvironmentVariables.ClusterId] = clusterId,
            ["Logging__LogLevel__Default"] = "Warning",
            ["DOTNET_gcServer"] = Environment.GetEnvironmentVariable("BENCH_SILO_GCSERVER") ?? "0",
        });
        await WaitReadyAsync(silo, httpPort);
        Console.WriteLine(FormattableString.Invariant($"silo pid {silo.Id}: DOTNET_gcServer={Environment.GetEnvironmentVariable("BENCH_SILO_GCSERVER") ?? "0"}, GC threads [{ServerGcThreads(silo.Id)}]"));
        await using var edge = await BenchmarkHost.StartAsync("exact", gatewayPort, serviceId, clusterId);
        var probe = edge.Grains.GetGrain<IClusterProbeGrain>(0);
        if (manyClients is { } clients)
        {
            var seconds = int.Parse(Environment.GetEnvironmentVariable("BENCH_DURATION") ?? "10", CultureInfo.InvariantCulture);
            await ManyClientsRun.RunAsync(silo.Id, edge, edge.Grains.GetGrain<IManagementGrain>(0), clients, TimeSpan.FromSeconds(seconds), inFlight: 256);
            Directory.Delete(directory, recursive: true);
            return 0;
        }


        // Warm up both paths.
        for (var i = 0; i < 5_000; i++)
        {
            await probe.PingAsync();
            await edge.Limiter.AcquireAsync("default", Unlimited, "ip:192.0.2.1", CancellationToken.None);
        }

        Console.WriteLine("== exact mode, edge -> remote silo, sequential, 20000 calls each ==");
        var ping = await LatencyAsync(20_000, async () => await probe.PingAsync());
        var exact = await LatencyAsync(20_000, async () => await edge.Limiter.AcquireAsync("default", Unlimited, "ip:192.0.2.1", CancellationToken.None));
        Print("raw grain ping (baseline)", ping);
        Print("exact decision", exact);
        Console.WriteLine(FormattableString.Invariant($"ratio exact/ping: p50 {exact[0] / ping[0]:F2}, p99 {exact[1] / ping[1]:F2}"));

        Console.WriteLine("== one hot key, exact mode, 256 in flight, 5 s each ==");
        var pingRate = await ThroughputAsync(256, TimeSpan.FromSeconds(5), async () => await probe.PingAsync());
        var exactRate = await ThroughputAsync(256, TimeSpan.FromSeconds(5), async () => await edge.Limiter.AcquireAsync("default", Unlimited, "ip:192.0.2.2", CancellationToken.None));
        Console.WriteLine(FormattableString.Invariant($"raw grain ping (baseline, stateless worker): {pingRate:F0}/s; exact decisions on one key: {exactRate:F0}/s; ratio {exactRate / pingRate:F2}"));

        await LeaseHitLatencyAsync(gatewayPort, serviceId, clusterId);

        var management = edge.Grains.GetGrain<IManagementGrain>(0);
        var silos = (await management.GetHosts(onlyActive: true)).Keys.ToArray();

        // Bytes per active bucket: buckets that stay active (a 60 s policy keeps them for a period), measured as the
        // silo's RSS after a forced full GC, before and after.
        const int Active = 50_000;
        Console.WriteLine(FormattableString.Invariant($"== memory: {Active} active buckets, policy 10/60s =="));
        await management.ForceGarbageCollection(silos);
        var rssEmpty = Rss(silo.Id);
        var activationsEmpty = await management.GetTotalActivationCount();
        var slow = new RateLimitPolicy(10, TimeSpan.FromMinutes(1), 10);
        await ActivateAsync(Active, i => "ip:172.16." + (i >> 8) + "." + (i & 255), slow, edge);
        await management.ForceGarbageCollection(silos);
        var rssActiveOnly = Rss(silo.Id);
        var activeCount = await management.GetTotalActivationCount() - activationsEmpty;
        Console.WriteLine(FormattableString.Invariant($"{activeCount} buckets active; silo RSS after forced GC {rssEmpty / 1048576.0:F1} MiB -> {rssActiveOnly / 1048576.0:F1} MiB: {(rssActiveOnly - rssEmpty) / (double)activeCount:F0} bytes per active bucket"));
        await management.ForceActivationCollection(silos, TimeSpan.Zero);

        Console.WriteLine(FormattableString.Invariant($"== memory: {buckets} distinct clients, policy 10/1s =="));
        await management.ForceGarbageCollection(silos);
        var rssBefore = Rss(silo.Id);
        var activationsBefore = await management.GetTotalActivationCount();
        var small = new RateLimitPolicy(10, TimeSpan.FromSeconds(1), 10);
        var clock = Stopwatch.StartNew();
        await ActivateAsync(buckets, i => "ip:10." + (i >> 16) + "." + ((i >> 8) & 255) + "." + (i & 255), small, edge, i =>
        {
            if (i % 100_000 == 0)
            {
                Console.WriteLine(FormattableString.Invariant($"  {i} buckets after {clock.Elapsed.TotalSeconds:F1} s, silo RSS {Rss(silo.Id) / 1048576.0:F1} MiB"));
            }
        });
        var rssActive = Rss(silo.Id);
        var activationsActive = await management.GetTotalActivationCount();
        Console.WriteLine(FormattableString.Invariant($"{buckets} buckets used in {clock.Elapsed.TotalSeconds:F1} s (each idles out about 2 s after its request); activations {activationsBefore} -> {activationsActive}; silo RSS {rssBefore / 1048576.0:F1} MiB -> {rssActive / 1048576.0:F1} MiB (includes garbage not yet collected)"));
        // Wait (up to BENCH_IDLE_SECONDS, default 60) for the buckets to deactivate, then keep watching RSS for
        // BENCH_AFTER_IDLE_SECONDS (default 0) more to see whether the silo hands the memory back.
        var idleLimit = int.Parse(Environment.GetEnvironmentVariable("BENCH_IDLE_SECONDS") ?? "60", CultureInfo.InvariantCulture);
        var afterIdle = int.Parse(Environment.GetEnvironmentVariable("BENCH_AFTER_IDLE_SECONDS") ?? "0", CultureInfo.InvariantCulture);
        var idleSince = -1;
        for (var waited = 0; waited < idleLimit || (idleSince >= 0 && waited < idleSince + afterIdle); waited += 5)
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            var activations = await management.GetTotalActivationCount();
            Console.WriteLine(FormattableString.Invariant($"idle {waited + 5,2} s: activations {activations}, silo RSS {Rss(silo.Id) / 1048576.0:F1} MiB"));
            if (activations <= activationsBefore + 10 && idleSince < 0)
            {
                idleSince = waited + 5;
            }

            if (idleSince >= 0 && waited + 5 >= idleSince + afterIdle)
            {
                break;
            }
        }

        await management.ForceGarbageCollection(silos);
        Console.WriteLine(FormattableString.Invariant($"after idle and a forced GC: activations {await management.GetTotalActivationCount()}, silo RSS {Rss(silo.Id) / 1048576.0:F1} MiB (before the clients: {rssBefore / 1048576.0:F1} MiB)"));
        Directory.Delete(directory, recursive: true);
        return 0;
    }

    /// <summary>
    /// Fast mode, per call: a second edge (fast mode) against the same silo; every decision on one key is timed on its
    /// own, refills included, next to System.Threading.RateLimiting's token bucket timed the same way.
    /// </summary>
    private static async Task LeaseHitLatencyAsync(int gatewayPort, string serviceId, string clusterId)
    {
        const int Calls = 2_000_000;
        Console.WriteLine(FormattableString.Invariant($"== fast mode, lease hit, one key, {Calls} sequential calls each, every call timed =="));
        await using var fast = await BenchmarkHost.StartAsync("fast", gatewayPort, serviceId, clusterId);
        using var local = LeaseHitBenchmarks.CreateLocalBaseline();
        for (var i = 0; i < 50_000; i++)
        {
            await fast.Limiter.AcquireAsync("default", Unlimited, "ip:192.0.2.3", CancellationToken.None);
        }

        var baseline = new double[Calls];
        for (var i = 0; i < Calls; i++)
        {
            var start = Stopwatch.GetTimestamp();
            using var lease = local.AttemptAcquire(1);
            baseline[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        var hits = new double[Calls];
        var denied = 0;
        for (var i = 0; i < Calls; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var decision = await fast.Limiter.AcquireAsync("default", Unlimited, "ip:192.0.2.3", CancellationToken.None);
            hits[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            denied += decision.Allowed ? 0 : 1;
        }

        Array.Sort(baseline);
        Array.Sort(hits);
        double At(double[] sorted, double q) => sorted[(int)(sorted.Length * q)];
        Console.WriteLine(FormattableString.Invariant($"local token bucket (baseline): p50 {At(baseline, 0.5):F3} us, p99 {At(baseline, 0.99):F3} us, p99.9 {At(baseline, 0.999):F3} us"));
        Console.WriteLine(FormattableString.Invariant($"fast-mode decision: p50 {At(hits, 0.5):F3} us, p99 {At(hits, 0.99):F3} us, p99.9 {At(hits, 0.999):F3} us, max {hits[^1]:F1} us; {denied} denied"));
        Console.WriteLine(FormattableString.Invariant($"ratio fast/local: p50 {At(hits, 0.5) / At(baseline, 0.5):F2}, p99 {At(hits, 0.99) / At(baseline, 0.99):F2}"));
    }

    /// <summary>One request each for <paramref name="count"/> distinct clients, 128 in flight.</summary>
    private static async Task ActivateAsync(int count, Func<int, string> client, RateLimitPolicy policy, BenchmarkHost edge, Action<int>? progress = null)
    {
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 128).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= count)
            {
                await edge.Limiter.AcquireAsync("default", policy, client(i), CancellationToken.None);
                progress?.Invoke(i);
            }
        }));
    }

    private static async Task WaitReadyAsync(ChildProcess silo, int httpPort)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.UntilReadyAsync(silo, http, TimeSpan.FromSeconds(60));
    }

    /// <summary>p50, p99, p99.9 in microseconds.</summary>
    private static async Task<double[]> LatencyAsync(int count, Func<Task> call)
    {
        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await call();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(samples);
        return [samples[count / 2], samples[(int)(count * 0.99)], samples[(int)(count * 0.999)]];
    }

    private static async Task<double> ThroughputAsync(int inFlight, TimeSpan duration, Func<Task> call)
    {
        long done = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
        {
            while (clock.Elapsed < duration)
            {
                await call();
                Interlocked.Increment(ref done);
            }
        }));
        return done / clock.Elapsed.TotalSeconds;
    }

    private static void Print(string what, double[] micros) =>
        Console.WriteLine(FormattableString.Invariant($"{what}: p50 {micros[0]:F1} us, p99 {micros[1]:F1} us, p99.9 {micros[2]:F1} us"));

    /// <summary>The silo's GC thread names with counts (server GC runs one ".NET Server GC" thread per heap).</summary>
    private static string ServerGcThreads(int pid)
    {
        var names = new List<string>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                if (name.Contains("GC", StringComparison.Ordinal))
                {
                    names.Add(name);
                }
            }
            catch (IOException)
            {
            }
        }

        return string.Join(", ", names.GroupBy(n => n, StringComparer.Ordinal).Select(g => g.Key + " x" + g.Count()));
    }

    internal static long Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }
}
