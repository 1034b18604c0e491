using Gateway.Hosting.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Edge.Tests.Infrastructure;

/// <summary>An edge in embedded mode (its own silo) started in-process on loopback ports, with its gateway.yml in a temp folder.</summary>
internal sealed class TestEdge : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private TestEdge(WebApplication app, string directory, int port)
    {
        _app = app;
        _directory = directory;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public string ConfigPath => Path.Combine(_directory, "gateway.yml");

    public static Task<TestEdge> StartAsync(string gatewayYml, params string[] extraArgs) => StartAsync(gatewayYml, configureServices: null, extraArgs);

    /// <summary>Starts an edge whose services <paramref name="configureServices"/> may add to or replace (e.g. a fake clock).</summary>
    public static async Task<TestEdge> StartAsync(string gatewayYml, Action<IServiceCollection>? configureServices, params string[] extraArgs)
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
            "--Logging:LogLevel:Default=Warning",
            .. extraArgs,
        ];
        var builder = WebApplication.CreateBuilder(args);
        builder.AddGatewayEdge();
        configureServices?.Invoke(builder.Services);
        var app = builder.Build().MapGatewayEdge();
        await app.StartAsync();
        return new TestEdge(app, directory, port);
    }

    /// <summary>Replaces gateway.yml and applies it at once (as the file watcher would, without waiting for it).</summary>
    public async Task<bool> WriteConfigAsync(string gatewayYml)
    {
        await File.WriteAllTextAsync(ConfigPath, gatewayYml);
        return Services.GetRequiredService<GatewayConfigStore>().Reload();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
