using System.Net;
using Gateway.Edge.Tests.Infrastructure;

namespace Gateway.Edge.Tests.Routing;

public sealed class ConfigReloadTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private TestEdge _edge = null!;

    private string OneRoute => $$"""
        upstreams: { echo: { destinations: ["{{_upstream.Address}}"] } }
        routes: [ { id: old, path: "/old/{**rest}", upstream: echo, ratelimit: off } ]
        """;

    private string TwoRoutes => $$"""
        upstreams: { echo: { destinations: ["{{_upstream.Address}}"] } }
        routes: [ { id: old, path: "/old/{**rest}", upstream: echo, ratelimit: off }, { id: new, path: "/new/{**rest}", upstream: echo } ]
        """;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _edge = await TestEdge.StartAsync(OneRoute);
    }

    public async Task DisposeAsync()
    {
        await _edge.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task FileChange_Valid_NewRouteServedWithoutRestart()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _edge.Client.GetAsync(new Uri("/new/x", UriKind.Relative))).StatusCode);

        await File.WriteAllTextAsync(_edge.ConfigPath, TwoRoutes);

        // Applied by the file watcher (or the poll), not by a call from the test.
        var status = await PollAsync(() => _edge.Client.GetAsync(new Uri("/new/x", UriKind.Relative)), HttpStatusCode.OK, TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(HttpStatusCode.OK, (await _edge.Client.GetAsync(new Uri("/old/x", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task FileChange_Invalid_LastGoodKeepsServingAndFailureCounted()
    {
        var applied = await _edge.WriteConfigAsync("upstreams: { echo: { destinations: [] } }\nroutes: [ { id: broken } ]");

        Assert.False(applied);
        Assert.Equal(HttpStatusCode.OK, (await _edge.Client.GetAsync(new Uri("/old/x", UriKind.Relative))).StatusCode);
        var metrics = await PollMetricsAsync("gateway_config_reloads_total{", "result=\"failure\"");
        Assert.Contains("result=\"failure\"", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reloads_UnderLoad_DropNoRequest()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(4));
        var failures = 0;
        var sent = 0;
        var load = Enumerable.Range(0, 4).Select(async _ =>
        {
            while (!cts.IsCancellationRequested)
            {
                using var response = await _edge.Client.GetAsync(new Uri("/old/x", UriKind.Relative));
                Interlocked.Increment(ref sent);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }).ToList();

        for (var i = 0; !cts.IsCancellationRequested; i++)
        {
            Assert.True(await _edge.WriteConfigAsync(i % 2 == 0 ? TwoRoutes : OneRoute));
            await Task.Delay(100);
        }

        await Task.WhenAll(load);
        Assert.True(sent > 50, $"only {sent} requests were sent");
        Assert.Equal(0, failures);
    }

    private static async Task<HttpStatusCode> PollAsync(Func<Task<HttpResponseMessage>> send, HttpStatusCode wanted, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        HttpStatusCode last;
        do
        {
            using var response = await send();
            last = response.StatusCode;
            if (last == wanted)
            {
                break;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);
        return last;
    }

    private async Task<string> PollMetricsAsync(string series, string label)
    {
        var text = string.Empty;
        for (var i = 0; i < 30; i++)
        {
            text = await _edge.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            if (text.Split('\n').Any(line => line.StartsWith(series, StringComparison.Ordinal) && line.Contains(label, StringComparison.Ordinal)))
            {
                break;
            }

            await Task.Delay(200);
        }

        return text;
    }
}
