using System.Globalization;
using BenchmarkDotNet.Attributes;

namespace Gateway.Benchmarks;

/// <summary>
/// What the edge's own pipeline allocates per proxied request, by BenchmarkDotNet's memory diagnoser: the edge and plain
/// YARP run in this process, the upstream and the client in a child process (<c>client-driver</c>), so that neither the
/// client's nor the upstream's parsing of the contract's headers is counted. One operation is one request; an invocation
/// asks the child for <see cref="Requests"/> of them (its pipe's few bytes, spread over those, are the same in every
/// row). Run it with <c>--inProcess</c> (the child is this program). The edge's row minus plain YARP's is the edge's own.
/// </summary>
[MemoryDiagnoser]
public class EdgeOwnAllocationBenchmarks
{
    private const int Requests = 100;

    private BenchChild _driver = null!;
    private EdgePipelineHosts _proxies = null!;

    [GlobalSetup]
    public void Setup()
    {
        _driver = BenchChild.Start("client-driver");
        var port = int.Parse(_driver.ReadAnswerAsync().GetAwaiter().GetResult().Split(' ')[1], CultureInfo.InvariantCulture);
        _proxies = EdgePipelineHosts.StartProxiesAsync(port).GetAwaiter().GetResult();
        _driver.AskAsync($"targets {_proxies.EdgeUrl} {_proxies.YarpUrl}").GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _driver.Dispose();
        _proxies.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, Description = "plain YARP", OperationsPerInvoke = Requests)]
    public Task<string> PlainYarp() => _driver.AskAsync("send yarp 100");

    [Benchmark(Description = "plain YARP, bearer forwarded", OperationsPerInvoke = Requests)]
    public Task<string> PlainYarpWithBearer() => _driver.AskAsync("send yarp-bearer 100");

    [Benchmark(Description = "edge, no session", OperationsPerInvoke = Requests)]
    public Task<string> Edge() => _driver.AskAsync("send edge 100");

    [Benchmark(Description = "edge, cached bearer session", OperationsPerInvoke = Requests)]
    public Task<string> EdgeWithSession() => _driver.AskAsync("send edge-session 100");
}

/// <summary>The child of <see cref="EdgeOwnAllocationBenchmarks"/>: the upstream and the client.</summary>
internal static class ClientDriver
{
    public static async Task<int> ServeAsync()
    {
        var (upstream, port) = await EdgePipelineHosts.StartUpstreamAsync();
        await using var app = upstream;
        using var client = EdgePipelineHosts.Client();
        var targets = new Dictionary<string, (Uri Url, string? Token)>(StringComparer.Ordinal);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"@ready {port}"));
        while (Console.ReadLine() is { } command && command != "quit")
        {
            var parts = command.Split(' ');
            if (parts is ["targets", var edge, var yarp])
            {
                var token = await EdgePipelineHosts.LoginAsync(client, new Uri(edge));
                targets["edge"] = (new Uri(edge), null);
                targets["edge-session"] = (new Uri(edge), token);
                targets["yarp"] = (new Uri(yarp), null);
                targets["yarp-bearer"] = (new Uri(yarp), token);
                Console.WriteLine("@ok");
            }
            else if (parts is ["send", var target, var count])
            {
                var (url, bearer) = targets[target];
                for (var i = int.Parse(count, CultureInfo.InvariantCulture); i > 0; i--)
                {
                    await AllocationRun.SendAsync(client, url, bearer);
                }

                Console.WriteLine("@done");
            }
        }

        await upstream.StopAsync();
        return 0;
    }
}
