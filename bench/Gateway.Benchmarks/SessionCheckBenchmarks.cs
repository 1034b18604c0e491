using BenchmarkDotNet.Attributes;
using Gateway.Edge.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Benchmarks;

/// <summary>
/// The cached session check alone, on the edge's own services: read the bearer token, verify its signature, find the
/// session in the edge's cache (warm: the benchmark keeps it fresh), make the request's session. No grain call.
/// </summary>
[MemoryDiagnoser]
public class SessionCheckBenchmarks
{
    private EdgePipelineHosts _hosts = null!;
    private SessionResolver _resolver = null!;
    private DefaultHttpContext _context = null!;

    [GlobalSetup]
    public void Setup()
    {
        _hosts = EdgePipelineHosts.StartAsync().GetAwaiter().GetResult();
        using var client = EdgePipelineHosts.Client();
        var token = _hosts.LoginAsync(client).GetAwaiter().GetResult();
        _resolver = _hosts.EdgeServices.GetRequiredService<SessionResolver>();
        _context = new DefaultHttpContext { RequestServices = _hosts.EdgeServices };
        _context.Request.Headers.Authorization = "Bearer " + token;
        if (!_resolver.CheckAsync(_context).AsTask().GetAwaiter().GetResult().IsValid)
        {
            throw new InvalidOperationException("The benchmark's session is not valid.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _hosts.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Description = "cached session check")]
    public bool CachedCheck()
    {
        var pending = _resolver.CheckAsync(_context);
        if (pending.IsCompletedSuccessfully)
        {
            return pending.Result.IsValid;
        }

        // The cached answer expired (500 ms): one grain call refreshes it, as on a real edge.
        return pending.AsTask().GetAwaiter().GetResult().IsValid;
    }
}
