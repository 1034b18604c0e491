using Gateway.Edge.RateLimiting;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Observability;
using Gateway.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Benchmarks;

/// <summary>
/// An edge's limiter without HTTP: <see cref="GrainRateLimiter"/> over an Orleans client of a silo on a loopback gateway
/// port (a separate process for the load run), or over an in-process silo (for the lease-hit benchmark).
/// </summary>
internal sealed class BenchmarkHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _directory;

    private BenchmarkHost(IHost host, string directory)
    {
        _host = host;
        _directory = directory;
    }

    public GrainRateLimiter Limiter => _host.Services.GetRequiredService<GrainRateLimiter>();

    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    public GatewayConfigStore Config => _host.Services.GetRequiredService<GatewayConfigStore>();

    public static string Yaml(string mode) => $$"""
        upstreams: { echo: { destinations: ["http://127.0.0.1:9"] } }
        routes: [ { id: echo, path: "/api/{**rest}", upstream: echo } ]
        ratelimit:
          default: { requests: 10000000, period: 1s, burst: 10000000 }
          mode: {{mode}}
          on_backend_failure: closed
        """;

    /// <summary>A client of the silo whose gateway listens on <paramref name="gatewayPort"/>; null starts a silo in this process.</summary>
    public static async Task<BenchmarkHost> StartAsync(string mode, int? gatewayPort, string serviceId, string clusterId)
    {
        var directory = Directory.CreateTempSubdirectory("gateway-bench-").FullName;
        var configPath = Path.Combine(directory, "gateway.yml");
        await File.WriteAllTextAsync(configPath, Yaml(mode));
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration[EnvironmentVariables.ConfigPath] = configPath;
        var settings = HostSettings.Read(builder.Configuration);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<GatewayMetrics>();
        builder.Services.AddSingleton(sp => GatewayConfigStore.Load(settings, TimeProvider.System, sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<GatewayMetrics>()));
        builder.Services.AddSingleton<GrainRateLimiter>();
        if (gatewayPort is { } port)
        {
            builder.UseOrleansClient(client => client.UseLocalhostClustering(port, serviceId, clusterId));
        }
        else
        {
            builder.UseOrleans(silo =>
            {
                silo.UseLocalhostClustering(FreePort.Next(), FreePort.Next(), serviceId: serviceId, clusterId: clusterId);
                silo.AddMemoryGrainStorage(Gateway.Grains.StorageNames.RateLimits);
                silo.Services.AddKeyedSingleton(Gateway.Grains.RateLimiting.RateLimitClock.Key, TimeProvider.System);
                Gateway.Grains.RateLimiting.RateLimitShardWarmUp.AddRateLimitShardWarmUp(silo);
            });
        }

        var host = builder.Build();
        await host.StartAsync();
        return new BenchmarkHost(host, directory);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
