using BenchmarkDotNet.Attributes;

namespace Gateway.Benchmarks;

/// <summary>
/// One proxied GET through the edge's whole pipeline against the same GET through plain YARP, both in this process over
/// loopback to the same upstream (see <see cref="EdgePipelineHosts"/>). The memory diagnoser counts every byte the
/// process allocates per request (client, proxy and upstream alike), so the edge's row minus YARP's row is what the
/// edge's own pipeline allocates.
/// </summary>
[MemoryDiagnoser]
public class EdgePipelineBenchmarks
{
    private EdgePipelineHosts _hosts = null!;
    private HttpClient _client = null!;
    private HttpRequestMessage _template = null!;
    private string _token = null!;

    [GlobalSetup]
    public void Setup()
    {
        _hosts = EdgePipelineHosts.StartAsync().GetAwaiter().GetResult();
        _client = EdgePipelineHosts.Client();
        _token = _hosts.LoginAsync(_client).GetAwaiter().GetResult();
        _template = new HttpRequestMessage();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _template.Dispose();
        _hosts.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, Description = "plain YARP")]
    public Task<int> PlainYarp() => SendAsync(_hosts.YarpUrl, token: null);

    [Benchmark(Description = "plain YARP, bearer forwarded")]
    public Task<int> PlainYarpWithBearer() => SendAsync(_hosts.YarpUrl, _token);

    [Benchmark(Description = "edge, no session")]
    public Task<int> Edge() => SendAsync(_hosts.EdgeUrl, token: null);

    [Benchmark(Description = "edge, cached bearer session")]
    public Task<int> EdgeWithSession() => SendAsync(_hosts.EdgeUrl, _token);

    private async Task<int> SendAsync(Uri url, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        using var response = await _client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        return (int)response.StatusCode + body.Length;
    }
}
