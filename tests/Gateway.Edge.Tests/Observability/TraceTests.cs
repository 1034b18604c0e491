using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Grains.Contracts;
using Microsoft.AspNetCore.Builder;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Gateway.Edge.Tests.Observability;

/// <summary>
/// Spans as the gateway's OpenTelemetry pipeline records them (a processor added to the real tracer provider, so
/// sources and sampling are the production ones): one trace per request from the ASP.NET Core span through YARP's
/// forward and the HttpClient call, W3C <c>traceparent</c> to the upstream, and Orleans spans for grain calls. Spans are
/// recorded only when an OTLP endpoint is set (here one that nothing listens on).
/// </summary>
[Collection(TraceListenerGroup.Name)]
public sealed class TraceTests : IAsyncLifetime
{
    private const string ProbePath = "/observability-test/probe";
    private readonly SpanCollector _spans = new();
    private TestUpstream _upstream = null!;
    private TestEdge _edge = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _edge = await TestEdge.StartAsync(
            $$"""
            upstreams: { echo: { destinations: ["{{_upstream.Address}}"] } }
            routes: [ { id: echo, path: "/api/{**rest}", upstream: echo } ]
            """,
            configure: builder => builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddProcessor(_spans)),
            map: app => app.MapGet(ProbePath, async (IGrainFactory grains) => await grains.GetGrain<IClusterProbeGrain>(0).PingAsync()),
            quiet: false,
            $"--OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:{FreePort.Next()}"); // tracing is on only with an exporter
    }

    public async Task DisposeAsync()
    {
        await _edge.DisposeAsync();
        await _upstream.DisposeAsync();
        _spans.Dispose();
    }

    [Fact]
    public async Task ProxiedRequest_IncomingTraceparent_ServerForwardAndClientSpansInOneTraceAndTraceparentUpstream()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/traced", UriKind.Relative));
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");

        using var response = await _edge.Client.SendAsync(request);
        var spans = await _spans.WaitForAsync(traceId, list => list.Any(IsAspNetCoreServer) && list.Any(IsHttpClient) && list.Any(IsYarp));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var server = Assert.Single(spans, span => IsAspNetCoreServer(span) && span.ParentSpanId == callerSpan);
        var client = Assert.Single(spans, IsHttpClient);

        // The upstream is an in-process Kestrel too: its own server span continues the trace from the edge's call.
        Assert.Single(spans, span => IsAspNetCoreServer(span) && span.ParentSpanId == client.SpanId);
        var forward = Assert.Single(spans, IsYarp);
        Assert.Equal("echo", forward.GetTagItem("proxy.route_id"));
        Assert.True(IsDescendant(client, server, spans), "the upstream call's span does not descend from the request's span");

        var upstreamHeaders = Assert.Single(_upstream.Received);
        var traceparent = upstreamHeaders["traceparent"].ToString().Split('-');
        Assert.Equal(4, traceparent.Length);
        Assert.Equal(traceId.ToHexString(), traceparent[1]);
        Assert.Equal(client.SpanId.ToHexString(), traceparent[2]);
        Assert.Equal("01", traceparent[3]);
        Assert.False(string.IsNullOrEmpty(upstreamHeaders["X-Correlation-ID"].ToString()));
    }

    [Fact]
    public async Task GrainCall_InsideARequest_OrleansClientAndServerSpansJoinTheRequestTrace()
    {
        var traceId = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(ProbePath, UriKind.Relative));
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");

        using var response = await _edge.Client.SendAsync(request);
        var spans = await _spans.WaitForAsync(traceId, list => list.Any(IsAspNetCoreServer) && list.Count(IsOrleans) >= 2);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var server = Assert.Single(spans, IsAspNetCoreServer);
        var grainClient = Assert.Single(spans, span => IsOrleans(span) && span.Kind == ActivityKind.Client && span.DisplayName.Contains("ClusterProbeGrain", StringComparison.Ordinal));
        var grainServer = Assert.Single(spans, span => IsOrleans(span) && span.Kind == ActivityKind.Server && span.DisplayName.Contains("ClusterProbeGrain", StringComparison.Ordinal));
        Assert.Equal(grainClient.SpanId, grainServer.ParentSpanId);
        Assert.True(IsDescendant(grainClient, server, spans), "the grain call's span does not descend from the request's span");
    }

    [Fact]
    public async Task HealthAndMetricsRequests_Scraped_ProduceNoServerSpans()
    {
        var traceId = ActivityTraceId.CreateRandom();
        foreach (var path in new[] { "/health/live", "/metrics" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
            request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
            using var response = await _edge.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // A proxied request afterwards proves the collector is live, so the absence below means something.
        using var proxied = await _edge.Client.GetAsync(new Uri("/api/after-scrape", UriKind.Relative));
        Assert.NotEmpty(await _spans.WaitForAsync(null, list => list.Any(s => IsAspNetCoreServer(s) && s.DisplayName.StartsWith("GET /api", StringComparison.Ordinal))));
        Assert.DoesNotContain(_spans.All, span => span.TraceId == traceId && IsAspNetCoreServer(span));
    }

    private static bool IsAspNetCoreServer(Activity span) => span.Source.Name == "Microsoft.AspNetCore" && span.Kind == ActivityKind.Server;

    private static bool IsYarp(Activity span) => span.Source.Name == "Yarp.ReverseProxy";

    private static bool IsHttpClient(Activity span) => span.Source.Name == "System.Net.Http" && span.Kind == ActivityKind.Client;

    private static bool IsOrleans(Activity span) => span.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal);

    private static bool IsDescendant(Activity span, Activity ancestor, IReadOnlyList<Activity> trace)
    {
        var current = span;
        for (var depth = 0; depth < 32 && current is not null; depth++)
        {
            if (current.ParentSpanId == ancestor.SpanId)
            {
                return true;
            }

            current = trace.FirstOrDefault(candidate => candidate.SpanId == current.ParentSpanId);
        }

        return false;
    }

    /// <summary>Keeps every span the tracer provider ends.</summary>
    private sealed class SpanCollector : BaseProcessor<Activity>
    {
        private readonly ConcurrentQueue<Activity> _ended = new();

        public IReadOnlyList<Activity> All => [.. _ended];

        public override void OnEnd(Activity data) => _ended.Enqueue(data);

        /// <summary>The spans of one trace (or all, for a null trace id) once they satisfy the condition; fails after 10 s.</summary>
        public Task<IReadOnlyList<Activity>> WaitForAsync(ActivityTraceId? traceId, Func<IReadOnlyList<Activity>, bool> condition) =>
            Eventually.UntilAsync(
                () => Task.FromResult<IReadOnlyList<Activity>>([.. _ended.Where(span => traceId is null || span.TraceId == traceId)]),
                condition,
                TimeSpan.FromSeconds(10),
                $"the expected spans of trace {traceId?.ToString() ?? "(any)"}");
    }
}
