using System.Diagnostics;
using System.Net;
using Gateway.Edge.Tests.Infrastructure;

namespace Gateway.Edge.Tests.Observability;

/// <summary>
/// Without a trace exporter the edge records no spans, yet the W3C trace context still reaches the upstream: the
/// caller's trace continued, or a new one, next to the correlation id.
/// </summary>
[Collection(TraceListenerGroup.Name)]
public sealed class TraceContextTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private TestEdge _edge = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _edge = await TestEdge.StartAsync(
            $$"""
            upstreams: { echo: { destinations: ["{{_upstream.Address}}"] } }
            routes: [ { id: echo, path: "/api/{**rest}", upstream: echo } ]
            """);
    }

    public async Task DisposeAsync()
    {
        await _edge.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task ProxiedRequest_NoExporterAndIncomingTraceparent_UpstreamContinuesTheTrace()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/continued", UriKind.Relative));
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        request.Headers.Add("X-Correlation-ID", "trace-continued");

        using var response = await _edge.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = _upstream.Received.Last(h => h["X-Correlation-ID"] == "trace-continued");
        var traceparent = seen["traceparent"].ToString().Split('-');
        Assert.Equal(4, traceparent.Length);
        Assert.Equal(traceId.ToHexString(), traceparent[1]);
        Assert.NotEqual(callerSpan.ToHexString(), traceparent[2]);
    }

    [Fact]
    public async Task ProxiedRequest_NoExporterNoTraceparent_UpstreamGetsANewTrace()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/new-trace", UriKind.Relative));
        request.Headers.Add("X-Correlation-ID", "trace-new");

        using var response = await _edge.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = _upstream.Received.Last(h => h["X-Correlation-ID"] == "trace-new");
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", seen["traceparent"].ToString());
        Assert.Equal("trace-new", response.Headers.GetValues("X-Correlation-ID").Single());
    }

    [Fact]
    public async Task ProxiedRequest_NoExporterAndInvalidTraceparent_NewTraceWithoutTheCallersTracestate()
    {
        var seen = await SendWithTraceStateAsync("00-00000000000000000000000000000000-00f067aa0ba902b7-01", "trace-invalid");

        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-00$", seen["traceparent"].ToString());
        Assert.DoesNotContain("00000000000000000000000000000000", seen["traceparent"].ToString(), StringComparison.Ordinal);
        Assert.False(seen.ContainsKey("tracestate"));
    }

    [Fact]
    public async Task ProxiedRequest_NoExporterAndValidTraceparent_CallersTracestateForwarded()
    {
        var seen = await SendWithTraceStateAsync($"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01", "trace-state");

        Assert.Equal("vendor=kept", seen["tracestate"].ToString());
    }

    /// <summary>Sends <paramref name="traceparent"/> with <c>tracestate: vendor=kept</c>; the headers the upstream received.</summary>
    private async Task<Microsoft.AspNetCore.Http.IHeaderDictionary> SendWithTraceStateAsync(string traceparent, string correlationId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/" + correlationId, UriKind.Relative));
        request.Headers.TryAddWithoutValidation("traceparent", traceparent);
        request.Headers.TryAddWithoutValidation("tracestate", "vendor=kept");
        request.Headers.Add("X-Correlation-ID", correlationId);

        using var response = await _edge.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return _upstream.Received.Last(h => h["X-Correlation-ID"] == correlationId);
    }
}
