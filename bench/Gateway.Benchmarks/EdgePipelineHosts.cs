using System.Net.Http.Json;
using Gateway.Edge;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Observability;
using Gateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Benchmarks;

/// <summary>
/// Three in-process Kestrel servers on loopback: an upstream with a fixed small JSON body, the edge (embedded, fast
/// mode, one route with <c>auth: optional</c>, everything else as shipped: access log, metrics) and plain YARP with one
/// route to the same upstream. The edge's log lines are formatted and buffered as in production, then written to
/// <see cref="Stream.Null"/> so that they do not mix with BenchmarkDotNet's output.
/// </summary>
internal sealed class EdgePipelineHosts : IAsyncDisposable
{
    public const string SessionSecret = "bench-session-secret-0123456789abcdef0123456789";

    private static readonly string[] Roles = ["user"];

    private readonly WebApplication? _upstream;
    private readonly WebApplication _edge;
    private readonly WebApplication _yarp;
    private readonly string _directory;

    private EdgePipelineHosts(WebApplication? upstream, WebApplication edge, WebApplication yarp, string directory, int edgePort, int yarpPort)
    {
        _upstream = upstream;
        _edge = edge;
        _yarp = yarp;
        _directory = directory;
        EdgeUrl = new Uri($"http://127.0.0.1:{edgePort}/api/bench");
        YarpUrl = new Uri($"http://127.0.0.1:{yarpPort}/api/bench");
    }

    public Uri EdgeUrl { get; }

    public Uri YarpUrl { get; }

    public IServiceProvider EdgeServices => _edge.Services;

    public int EdgePort => EdgeUrl.Port;

    public int YarpPort => YarpUrl.Port;

    /// <summary>The upstream, the edge and plain YARP in this process.</summary>
    public static async Task<EdgePipelineHosts> StartAsync()
    {
        var (upstream, upstreamPort) = await StartUpstreamAsync();
        return await StartAsync(upstream, upstreamPort);
    }

    /// <summary>The edge and plain YARP in this process, in front of an upstream that another process runs.</summary>
    public static Task<EdgePipelineHosts> StartProxiesAsync(int upstreamPort) => StartAsync(null, upstreamPort);

    /// <summary>The upstream: the login's identity check and a fixed small JSON body for every other path.</summary>
    public static async Task<(WebApplication App, int Port)> StartUpstreamAsync()
    {
        var upstreamPort = FreePort.Next();
        var upstream = Quiet(WebApplication.CreateBuilder([$"--urls=http://127.0.0.1:{upstreamPort}"])).Build();
        upstream.MapPost("/auth/verify", () => Results.Json(new { user_id = "alice", tier = "gold", roles = Roles }));
        upstream.Map("/{**path}", static context =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.Body.WriteAsync("{\"service\":\"bench-upstream\",\"ok\":true,\"items\":[1,2,3]}"u8.ToArray()).AsTask();
        });
        await upstream.StartAsync();
        return (upstream, upstreamPort);
    }

    private static async Task<EdgePipelineHosts> StartAsync(WebApplication? upstream, int upstreamPort)
    {

        var directory = Directory.CreateTempSubdirectory("gateway-pipeline-bench-").FullName;
        var config = Path.Combine(directory, "gateway.yml");
        await File.WriteAllTextAsync(config, $$"""
            upstreams:
              app: { destinations: ["http://127.0.0.1:{{upstreamPort}}"] }
            routes:
              - { id: bench, path: "/api/{**rest}", upstream: app, auth: optional }
            session:
              cookie: gw_bench
              secure_cookie: false
              login: { upstream: app, path: /auth/verify }
            ratelimit:
              default: { requests: 1000000, period: 1s, burst: 1000000 }
              mode: fast
              on_backend_failure: open
            """);
        var edgePort = FreePort.Next();
        var edgeBuilder = WebApplication.CreateBuilder(
        [
            $"--urls=http://127.0.0.1:{edgePort}",
            $"--{EnvironmentVariables.ConfigPath}={config}",
            $"--{EnvironmentVariables.SiloPort}={FreePort.Next()}",
            $"--{EnvironmentVariables.GatewayPort}={FreePort.Next()}",
            $"--{EnvironmentVariables.SessionSecret}={SessionSecret}",
            $"--{EnvironmentVariables.DrainDelay}=0",
        ]);
        edgeBuilder.AddGatewayEdge();
        edgeBuilder.Services.AddSingleton(_ => new LogLineBuffer(Stream.Null)); // registered last: the one resolved
        var edge = edgeBuilder.Build().MapGatewayEdge();
        await edge.StartAsync();

        var yarpPort = FreePort.Next();
        var yarpBuilder = Quiet(WebApplication.CreateBuilder([$"--urls=http://127.0.0.1:{yarpPort}"]));
        yarpBuilder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "all", ClusterId = "upstream", Match = new RouteMatch { Path = "{**catch-all}" } }],
            [new ClusterConfig { ClusterId = "upstream", Destinations = new Dictionary<string, DestinationConfig> { ["upstream"] = new() { Address = $"http://127.0.0.1:{upstreamPort}" } } }]);
        var yarp = yarpBuilder.Build();
        yarp.MapReverseProxy();
        await yarp.StartAsync();
        return new EdgePipelineHosts(upstream, edge, yarp, directory, edgePort, yarpPort);
    }

    /// <summary>A client that keeps one connection per server and sends no trace headers of its own.</summary>
    public static HttpClient Client() => new(new SocketsHttpHandler { ActivityHeadersPropagator = null, UseCookies = false, MaxConnectionsPerServer = 1 });

    /// <summary>A session token of alice, from the edge's own login.</summary>
    public Task<string> LoginAsync(HttpClient client) => LoginAsync(client, EdgeUrl);

    /// <summary>A session token of alice, from the login of the edge at <paramref name="edgeUrl"/>.</summary>
    public static async Task<string> LoginAsync(HttpClient client, Uri edgeUrl)
    {
        ArgumentNullException.ThrowIfNull(client);

        // The edge answers before its in-process silo does (503 until then): on a busy machine that takes a while.
        var response = await client.PostAsJsonAsync(new Uri(edgeUrl, "/auth/login"), new { username = "alice", password = "alice" });
        for (var attempt = 0; attempt < 120 && response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable; attempt++)
        {
            response.Dispose();
            await Task.Delay(500);
            response = await client.PostAsJsonAsync(new Uri(edgeUrl, "/auth/login"), new { username = "alice", password = "alice" });
        }

        using var answered = response;
        response.EnsureSuccessStatusCode();
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("token").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        await _yarp.StopAsync();
        await _edge.StopAsync();
        if (_upstream is not null)
        {
            await _upstream.StopAsync();
        }

        await _yarp.DisposeAsync();
        await _edge.DisposeAsync();
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    private static WebApplicationBuilder Quiet(WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        return builder;
    }
}
