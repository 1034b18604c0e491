using Gateway.Hosting.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Edge.Tests.Infrastructure;

/// <summary>An edge in embedded mode (its own silo) started in-process on loopback ports, with its gateway.yml in a temp folder.</summary>
internal sealed class TestEdge : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private TestEdge(WebApplication app, string directory, int port, HttpMessageHandler handler)
    {
        _app = app;
        _directory = directory;
        Client = new HttpClient(handler) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public string ConfigPath => Path.Combine(_directory, "gateway.yml");

    public static Task<TestEdge> StartAsync(string gatewayYml, params string[] extraArgs) => StartAsync(gatewayYml, configureServices: null, extraArgs);

    /// <summary>Starts an edge whose services <paramref name="configureServices"/> may add to or replace (e.g. a fake clock).</summary>
    public static Task<TestEdge> StartAsync(string gatewayYml, Action<IServiceCollection>? configureServices, params string[] extraArgs) =>
        StartAsync(gatewayYml, configureServices is null ? null : builder => configureServices(builder.Services), map: null, quiet: true, extraArgs);

    /// <summary>
    /// Starts an edge with hooks: <paramref name="configure"/> runs before it is built (trace processors, log providers),
    /// <paramref name="map"/> after the gateway's own endpoints are mapped. Unless <paramref name="quiet"/>, every log level
    /// is on, and the test's client sends no trace context of its own (tests that check traces send the one they want).
    /// </summary>
    public static async Task<TestEdge> StartAsync(string gatewayYml, Action<WebApplicationBuilder>? configure, Action<WebApplication>? map, bool quiet, params string[] extraArgs)
    {
        var directory = Directory.CreateTempSubdirectory("gateway-edge-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "gateway.yml"), gatewayYml);
        var port = FreePort.Next();
        string[] args =
        [
            $"--urls=http://127.0.0.1:{port}",
            $"--{EnvironmentVariables.ConfigPath}={Path.Combine(directory, "gateway.yml")}",
            $"--{EnvironmentVariables.SiloPort}={FreePort.Next()}",
            $"--{EnvironmentVariables.GatewayPort}={FreePort.Next()}",
            .. quiet ? ["--Logging:LogLevel:Default=Warning"] : Array.Empty<string>(),
            .. extraArgs,
        ];
        var builder = WebApplication.CreateBuilder(args);
        builder.AddGatewayEdge();
        configure?.Invoke(builder);
        var app = builder.Build().MapGatewayEdge();
        map?.Invoke(app);
        await app.StartAsync();
        var handler = quiet ? new SocketsHttpHandler() : new SocketsHttpHandler { ActivityHeadersPropagator = null };
        return new TestEdge(app, directory, port, handler);
    }

    /// <summary>Replaces gateway.yml and applies it at once (as the file watcher would, without waiting for it).</summary>
    /// <returns>Whether the new content is in force: the file watcher may have applied it first, which counts.</returns>
    public async Task<bool> WriteConfigAsync(string gatewayYml)
    {
        var store = Services.GetRequiredService<GatewayConfigStore>();
        var before = store.Current;
        await File.WriteAllTextAsync(ConfigPath, gatewayYml);
        store.Reload();
        return !ReferenceEquals(before, store.Current);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
