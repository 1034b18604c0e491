using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace Gateway.Benchmarks;

/// <summary>
/// Where the bytes of a proxied request go, by type: the same in-process servers as <see cref="EdgePipelineBenchmarks"/>,
/// one GET at a time through plain YARP and through the edge (with and without a cached session), while an
/// <see cref="EventListener"/> takes the runtime's allocation ticks (one sample per about 100 KB allocated, naming the
/// type whose allocation crossed it). The exact total per request comes from <see cref="GC.GetTotalAllocatedBytes"/>;
/// the per-type split is a sample, so types under a few hundred bytes per request are noise.
/// </summary>
internal static class AllocationRun
{
    public static async Task<int> RunAsync(int requests)
    {
        Console.WriteLine("One process (client, upstream, edge and plain YARP; what BenchmarkDotNet's memory diagnoser counts):");
        await using (var hosts = await EdgePipelineHosts.StartAsync())
        {
            await MeasureAsync(requests, hosts.EdgeUrl, hosts.YarpUrl, new LocalAllocationCounter());
        }

        Console.WriteLine("\nThe proxies' process alone (client and upstream in this process): what the edge and YARP allocate themselves:");
        var (upstream, upstreamPort) = await EdgePipelineHosts.StartUpstreamAsync();
        await using (upstream)
        {
            using var proxies = await ProxyProcess.StartAsync(upstreamPort);
            await MeasureAsync(requests, proxies.EdgeUrl, proxies.YarpUrl, proxies);
            await upstream.StopAsync();
        }

        return 0;
    }

    private static async Task MeasureAsync(int requests, Uri edgeUrl, Uri yarpUrl, IAllocationCounter counter)
    {
        using var client = EdgePipelineHosts.Client();
        var token = await EdgePipelineHosts.LoginAsync(client, edgeUrl);
        var targets = new (string Name, Uri Url, string? Token)[]
        {
            ("plain YARP", yarpUrl, null),
            ("plain YARP, bearer", yarpUrl, token),
            ("edge", edgeUrl, null),
            ("edge, session", edgeUrl, token),
        };

        var results = new List<(string Name, double Total, Dictionary<string, double> ByType)>();
        foreach (var (name, url, bearer) in targets)
        {
            for (var i = 0; i < 2_000; i++)
            {
                await SendAsync(client, url, bearer);
            }

            await counter.StartTicksAsync();
            var before = await counter.BytesAsync();
            for (var i = 0; i < requests; i++)
            {
                await SendAsync(client, url, bearer);
            }

            var total = (await counter.BytesAsync() - before) / (double)requests;
            await Task.Delay(500); // the listener's events arrive a little later
            results.Add((name, total, await counter.StopTicksAsync(requests)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {total:F0} bytes per request"));
        }

        Print("edge − plain YARP", results[2].ByType, results[0].ByType, results[2].Total - results[0].Total);
        Print("edge, session − plain YARP, bearer", results[3].ByType, results[1].ByType, results[3].Total - results[1].Total);
    }

    private static void Print(string title, Dictionary<string, double> edge, Dictionary<string, double> yarp, double total)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\n{title}: {total:F0} bytes per request; sampled by type (bytes per request):"));
        var rows = edge.Keys.Union(yarp.Keys)
            .Select(type => (Type: type, Edge: edge.GetValueOrDefault(type), Diff: edge.GetValueOrDefault(type) - yarp.GetValueOrDefault(type)))
            .OrderByDescending(row => row.Diff)
            .Take(40);
        foreach (var (type, edgeBytes, diff) in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{diff,8:F0} {edgeBytes,8:F0}  {type}"));
        }
    }

    internal static async Task SendAsync(HttpClient client, Uri url, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        using var response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary>Sums <c>GCAllocationTick</c> amounts by type name.</summary>
    internal sealed class AllocationListener : EventListener
    {
        private const EventKeywords GcKeyword = (EventKeywords)0x1;

        private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
        private volatile bool _enabled = true;

        public Dictionary<string, double> PerRequest(int requests)
        {
            _enabled = false;
            return _bytes.ToDictionary(pair => pair.Key, pair => pair.Value / (double)requests, StringComparer.Ordinal);
        }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (!_enabled || eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || eventData.Payload is null)
            {
                return;
            }

            var names = eventData.PayloadNames!;
            var type = eventData.Payload[names.IndexOf("TypeName")] as string ?? "?";
            var amount = Convert.ToInt64(eventData.Payload[names.IndexOf("AllocationAmount64")], CultureInfo.InvariantCulture);
            _bytes.AddOrUpdate(type, amount, (_, sum) => sum + amount);
        }
    }
}

/// <summary>Bytes allocated by the process that serves the proxies, and its allocation ticks by type.</summary>
internal interface IAllocationCounter
{
    Task<long> BytesAsync();

    Task StartTicksAsync();

    /// <summary>Stops the ticks; bytes per request by type.</summary>
    Task<Dictionary<string, double>> StopTicksAsync(int requests);
}

/// <summary>The counter of this process.</summary>
internal sealed class LocalAllocationCounter : IAllocationCounter
{
    private AllocationRun.AllocationListener? _listener;

    public Task<long> BytesAsync() => Task.FromResult(GC.GetTotalAllocatedBytes(precise: true));

    public Task StartTicksAsync()
    {
        _listener = new AllocationRun.AllocationListener();
        return Task.CompletedTask;
    }

    public Task<Dictionary<string, double>> StopTicksAsync(int requests)
    {
        var listener = _listener!;
        _listener = null;
        var byType = listener.PerRequest(requests);
        listener.Dispose();
        return Task.FromResult(byType);
    }
}
