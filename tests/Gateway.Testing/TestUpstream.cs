using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Testing;

/// <summary>A real Kestrel upstream on a loopback port that records what it received.</summary>
public sealed class TestUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestUpstream(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string Address => $"http://127.0.0.1:{Port}";

    /// <summary>A gateway.yml with one route, <c>echo</c> at <c>/api/{**rest}</c>, to this upstream.</summary>
    /// <param name="rateLimited">False adds <c>ratelimit: off</c>, for tests that send more than the default policy allows.</param>
    public string EchoConfig(bool rateLimited = true) => $$"""
        upstreams: { echo: { destinations: ["{{Address}}"] } }
        routes: [ { id: echo, path: "/api/{**rest}", upstream: echo{{(rateLimited ? string.Empty : ", ratelimit: off")}} } ]
        """;

    public ConcurrentQueue<IHeaderDictionary> Received { get; } = new();

    /// <summary>The status <c>/health</c> answers with.</summary>
    public int HealthStatus { get; set; } = 200;

    public static async Task<TestUpstream> StartAsync()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var upstream = new TestUpstream(app, port);
        app.MapGet("/health", () => Results.StatusCode(upstream.HealthStatus));
        app.MapPost("/auth/verify", async (HttpContext context) =>
        {
            upstream.Received.Enqueue(new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value)));
            return await VerifyLoginAsync(context);
        });
        app.Map("/{**path}", async (HttpContext context) =>
        {
            upstream.Received.Enqueue(new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value)));
            if (context.Request.Query.TryGetValue("delay_ms", out var delay))
            {
                await Task.Delay(int.Parse(delay!, System.Globalization.CultureInfo.InvariantCulture), context.RequestAborted);
            }

            if (context.Request.Query.TryGetValue("cache_control", out var cacheControl))
            {
                context.Response.Headers.CacheControl = cacheControl;
            }

            var status = context.Request.Query.TryGetValue("status", out var code) ? int.Parse(code!, System.Globalization.CultureInfo.InvariantCulture) : 200;
            return Results.Json(new { port, path = context.Request.Path.Value, method = context.Request.Method }, statusCode: status);
        });
        await app.StartAsync();
        return upstream;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    /// <summary>An identity upstream with the sample upstream's demo identities (alice/alice, bob/bob): 200 with the identity, anything else 401.</summary>
    private static async Task<IResult> VerifyLoginAsync(HttpContext context)
    {
        System.Text.Json.Nodes.JsonObject? body;
        try
        {
            body = await System.Text.Json.Nodes.JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as System.Text.Json.Nodes.JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            body = null;
        }

        return Gateway.SampleUpstream.DemoIdentities.Verify((string?)body?["username"], (string?)body?["password"]) is { } identity
            ? Results.Json(identity)
            : Results.Json(new { error = "invalid credentials" }, statusCode: 401);
    }
}
