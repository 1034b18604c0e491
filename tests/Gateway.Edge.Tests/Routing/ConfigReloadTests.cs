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
        await Eventually.UntilAsync(() => StatusAsync("/new/x"), status => status == HttpStatusCode.OK, TimeSpan.FromSeconds(15), "GET /new/x answering 200 after the file change");
        Assert.Equal(HttpStatusCode.OK, (await _edge.Client.GetAsync(new Uri("/old/x", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task FileChange_Invalid_LastGoodKeepsServingAndFailureCounted()
    {
        var applied = await _edge.WriteConfigAsync("upstreams: { echo: { destinations: [] } }\nroutes: [ { id: broken } ]");

        Assert.False(applied);
        Assert.Equal(HttpStatusCode.OK, (await _edge.Client.GetAsync(new Uri("/old/x", UriKind.Relative))).StatusCode);
        await Eventually.UntilAsync(
            () => _edge.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative)),
            text => text.Split('\n').Any(line => line.StartsWith("gateway_config_reloads_total{", StringComparison.Ordinal) && line.Contains("result=\"failure\"", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(6),
            "a gateway_config_reloads_total series with result=\"failure\"");
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

    private async Task<HttpStatusCode> StatusAsync(string path)
    {
        using var response = await _edge.Client.GetAsync(new Uri(path, UriKind.Relative));
        return response.StatusCode;
    }
}
