using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Gateway.Edge.Tests.Routing;

/// <summary>
/// A real Kestrel upstream on a loopback port for the route feature tests: records the raw request target and the headers
/// it received, counts requests, answers 500 while <see cref="Failing"/>, echoes WebSocket messages on <c>/ws</c>.
/// </summary>
internal sealed class FeatureUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _count;

    private FeatureUpstream(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string Address => $"http://127.0.0.1:{Port}";

    public int Count => Volatile.Read(ref _count);

    /// <summary>While true, every request other than a WebSocket upgrade is answered 500.</summary>
    public bool Failing
    {
        get => Volatile.Read(ref _failing);
        set => Volatile.Write(ref _failing, value);
    }

    private bool _failing;

    /// <summary>Each request as received: the raw target (path and query as sent on the wire) and the headers.</summary>
    public ConcurrentQueue<(string Target, IHeaderDictionary Headers)> Received { get; } = new();

    public static async Task<FeatureUpstream> StartAsync(bool record = true)
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var upstream = new FeatureUpstream(app, port);
        app.UseWebSockets();
        app.Use(async (context, next) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                await next(context);
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
            }
        });
        app.Run(async context =>
        {
            Interlocked.Increment(ref upstream._count);
            if (record)
            {
                var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
                upstream.Received.Enqueue((target, new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value))));
            }

            context.Response.Headers.Server = "feature-upstream";
            context.Response.Headers["X-Upstream-Debug"] = "1";
            context.Response.StatusCode = upstream.Failing ? 500
                : context.Request.Query.TryGetValue("status", out var status) ? int.Parse(status!, System.Globalization.CultureInfo.InvariantCulture) : 200;
            await context.Response.WriteAsync(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
        await app.StartAsync();
        return upstream;
    }

    /// <summary>The raw target of the one request whose target contains <paramref name="marker"/>.</summary>
    public (string Target, IHeaderDictionary Headers) Single(string marker) =>
        Assert.Single(Received, r => r.Target.Contains(marker, StringComparison.Ordinal));

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
