using Gateway.Hosting.Configuration;
using Microsoft.AspNetCore.Builder;

namespace Gateway.Edge.Tests.Observability;

/// <summary>
/// An embedded-mode edge (its own silo) in-process on loopback ports, like <c>TestEdge</c>, with hooks to add services
/// (trace processors, log providers) before it is built and endpoints after the gateway's own are mapped.
/// </summary>
internal sealed class ObservedEdge : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private ObservedEdge(WebApplication app, string directory, int port)
    {
        _app = app;
        _directory = directory;
        // The test's own calls must not propagate a trace of their own: the tests send the traceparent they want.
        Client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<ObservedEdge> StartAsync(string gatewayYml, Action<WebApplicationBuilder>? configure = null, Action<WebApplication>? map = null, params string[] extraArgs)
    {
        var directory = Directory.CreateTempSubdirectory("gateway-edge-obs-").FullName;
        var configPath = Path.Combine(directory, "gateway.yml");
        await File.WriteAllTextAsync(configPath, gatewayYml);
        var port = FreePort.Next();
        string[] args =
        [
            $"--urls=http://127.0.0.1:{port}",
            $"--{EnvironmentVariables.ConfigPath}={configPath}",
            $"--{EnvironmentVariables.SiloPort}={FreePort.Next()}",
            $"--{EnvironmentVariables.GatewayPort}={FreePort.Next()}",
            .. extraArgs,
        ];
        var builder = WebApplication.CreateBuilder(args);
        builder.AddGatewayEdge();
        configure?.Invoke(builder);
        var app = builder.Build().MapGatewayEdge();
        map?.Invoke(app);
        await app.StartAsync();
        return new ObservedEdge(app, directory, port);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
