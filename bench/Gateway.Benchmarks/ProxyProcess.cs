using System.Globalization;

namespace Gateway.Benchmarks;

/// <summary>
/// The edge and plain YARP in a process of their own (<c>pipeline-servers &lt;upstream port&gt;</c>), so that what the
/// client and the upstream allocate for the contract's headers (parsing <c>X-Correlation-ID</c>, <c>traceparent</c>,
/// <c>RateLimit-Policy</c>, <c>RateLimit</c>) is not counted: the proxies' process alone allocates what the edge and YARP
/// allocate. The parent asks the child over stdin for its allocated bytes and its allocation ticks by type; the child's
/// answers are the lines that start with <c>@</c>.
/// </summary>
internal sealed class ProxyProcess : IAllocationCounter, IDisposable
{
    private readonly BenchChild _child;

    private ProxyProcess(BenchChild child, int edgePort, int yarpPort)
    {
        _child = child;
        EdgeUrl = new Uri($"http://127.0.0.1:{edgePort}/api/bench");
        YarpUrl = new Uri($"http://127.0.0.1:{yarpPort}/api/bench");
    }

    public Uri EdgeUrl { get; }

    public Uri YarpUrl { get; }

    /// <summary>Starts the child in front of the upstream on <paramref name="upstreamPort"/>.</summary>
    public static async Task<ProxyProcess> StartAsync(int upstreamPort)
    {
        var child = BenchChild.Start("pipeline-servers", upstreamPort.ToString(CultureInfo.InvariantCulture));
        var ready = (await child.ReadAnswerAsync()).Split(' ');
        return new ProxyProcess(child, int.Parse(ready[1], CultureInfo.InvariantCulture), int.Parse(ready[2], CultureInfo.InvariantCulture));
    }

    /// <summary>The child's side: serves until stdin closes or says <c>quit</c>.</summary>
    public static async Task<int> ServeAsync(int upstreamPort)
    {
        await using var hosts = await EdgePipelineHosts.StartProxiesAsync(upstreamPort);
        var local = new LocalAllocationCounter();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"@ready {hosts.EdgePort} {hosts.YarpPort}"));
        while (Console.ReadLine() is { } command && command != "quit")
        {
            if (command == "bytes")
            {
                var bytes = await local.BytesAsync();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"@{bytes}"));
            }
            else if (command == "ticks")
            {
                await local.StartTicksAsync();
                Console.WriteLine("@started");
            }
            else if (command.StartsWith("stop ", StringComparison.Ordinal))
            {
                var byType = await local.StopTicksAsync(int.Parse(command[5..], CultureInfo.InvariantCulture));
                foreach (var (type, bytes) in byType)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"@{bytes:R}\t{type}"));
                }

                Console.WriteLine("@end");
            }
        }

        return 0;
    }

    public async Task<long> BytesAsync() => long.Parse(await _child.AskAsync("bytes"), CultureInfo.InvariantCulture);

    public Task StartTicksAsync() => _child.AskAsync("ticks");

    public async Task<Dictionary<string, double>> StopTicksAsync(int requests)
    {
        var byType = new Dictionary<string, double>(StringComparer.Ordinal);
        var line = await _child.AskAsync(string.Create(CultureInfo.InvariantCulture, $"stop {requests}"));
        while (line != "end")
        {
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            byType[line[(tab + 1)..]] = double.Parse(line[..tab], CultureInfo.InvariantCulture);
            line = await _child.ReadAnswerAsync();
        }

        return byType;
    }

    public void Dispose() => _child.Dispose();
}
