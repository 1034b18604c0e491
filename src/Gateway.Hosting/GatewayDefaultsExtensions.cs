using Gateway.Grains.RateLimiting;
using Gateway.Grains.Sessions;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Health;
using Gateway.Hosting.Http;
using Gateway.Hosting.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Hosting;

/// <summary>What the edge and the silo share: settings, JSON logs, metrics, traces, health and config loading.</summary>
public static class GatewayDefaultsExtensions
{
    public const string ReadyTag = "ready";

    /// <summary>ASP.NET Core's per-request log category; while it is enabled, every request gets an Activity.</summary>
    public const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>Reads and validates the environment and <c>gateway.yml</c>, and registers the shared services.</summary>
    /// <param name="builder">The process's builder.</param>
    /// <param name="serviceName">The service name in traces.</param>
    /// <param name="defaultUrls">The listeners when neither <c>ASPNETCORE_URLS</c> nor <c>--urls</c> names any.</param>
    public static HostSettings AddGatewayDefaults(this WebApplicationBuilder builder, string serviceName, string defaultUrls)
    {
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]) && string.IsNullOrEmpty(builder.Configuration["HTTP_PORTS"]))
        {
            builder.WebHost.UseUrls(defaultUrls);
        }

        // JSON lines on stdout, written by a thread of their own through a bounded buffer (LOG_BUFFER_LINES).
        builder.Logging.ClearProviders();
        var logBufferLines = LogLineBuffer.ReadCapacity(builder.Configuration);
        builder.Services.AddSingleton(_ => new LogLineBuffer(new BufferedStream(Console.OpenStandardOutput(), 64 * 1024), logBufferLines));
        builder.Services.AddSingleton<ILoggerProvider>(sp => new JsonLineLoggerProvider(sp.GetRequiredService<LogLineBuffer>(), sp.GetRequiredService<TimeProvider>()));
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);

        // Nothing of ours is protected with ASP.NET Core data protection; its warning about ephemeral keys (a read-only
        // root filesystem has no key folder) would only mislead operators.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);

        var settings = HostSettings.Read(builder.Configuration);
        var services = builder.Services;
        services.AddSingleton(settings);
        services.TryAddSingleton(TimeProvider.System);

        // The grains' and the session cache's clocks: the process clock unless a test registers its own first.
        services.TryAddKeyedSingleton<TimeProvider>(SessionClock.Key, (sp, _) => sp.GetRequiredService<TimeProvider>());
        services.TryAddKeyedSingleton<TimeProvider>(RateLimitClock.Key, (sp, _) => sp.GetRequiredService<TimeProvider>());
        services.AddSingleton<GatewayMetrics>();
        services.AddGatewayProblemDetails();
        services.TryAddSingleton(sp => new AdminAttemptLimiter(sp.GetRequiredService<TimeProvider>(), AdminAttemptLimiter.TcpPeer, sp.GetRequiredService<ILogger<AdminAttemptLimiter>>()));
        services.AddSingleton<ShutdownDrain>();
        services.AddSingleton<IHostLifetime, DrainingHostLifetime>();

        // Fail now, with every error listed, rather than from inside the running host.
        // Read and parsed once; the store adds the checks that need services (the edge's proxy validator).
        var file = GatewayConfigStore.ReadFile(settings);
        services.AddSingleton(sp => GatewayConfigStore.Create(file, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<GatewayMetrics>(), validators: sp.GetServices<IGatewayConfigValidator>()));
        services.AddHostedService(sp => sp.GetRequiredService<GatewayConfigStore>());

        services.AddHealthChecks()
            .AddCheck<DrainHealthCheck>("shutdown", tags: [ReadyTag])
            .AddCheck<ConfigHealthCheck>("config", tags: [ReadyTag])
            .AddCheck<GrainClusterHealthCheck>("grain_cluster", tags: [ReadyTag]);

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics => metrics
                .AddMeter(GatewayMetrics.MeterName)

                // The runtime's own meter (what OpenTelemetry's runtime instrumentation subscribes to on .NET 9 and later).
                .AddMeter("System.Runtime")

                // Prometheus reserves the _count suffix for histograms and summaries (promtool lints it): rename the three
                // .NET runtime gauges that end in .count.
                .AddView("dotnet.assembly.count", new MetricStreamConfiguration { Name = "dotnet.assemblies.loaded" })
                .AddView("dotnet.process.cpu.count", new MetricStreamConfiguration { Name = "dotnet.process.cpus" })
                .AddView("dotnet.timer.count", new MetricStreamConfiguration { Name = "dotnet.timers.active" })
                .AddPrometheusExporter());

        // Spans only when something takes them: without an OTLP endpoint no listener is registered, so neither ASP.NET
        // Core, YARP, HttpClient nor Orleans records spans, and no request has an Activity at all (ASP.NET Core starts one
        // whenever its hosting log category is enabled, only to put trace ids in a log scope; HttpClient then starts a
        // second for the upstream call): the edge writes the upstream's traceparent itself. Besides per-request lines
        // below Warning, the category only reports the web host's own start errors, which still fail the start.
        if (!TracesExported(builder.Configuration))
        {
            builder.Logging.AddFilter(HostingDiagnosticsCategory, LogLevel.None);
        }
        else
        {
            services.AddOpenTelemetry().WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !context.Request.Path.StartsWithSegments("/health") && !context.Request.Path.StartsWithSegments("/metrics"))
                .AddHttpClientInstrumentation()
                .AddSource("Yarp.ReverseProxy")
                .AddSource("Microsoft.Orleans.Runtime")
                .AddSource("Microsoft.Orleans.Application")
                .AddSource("Microsoft.Orleans.Storage")
                .AddOtlpExporter());
        }

        return settings;
    }

    /// <summary>Maps <c>/health/live</c>, <c>/health/ready</c> (on every listener) and <c>/metrics</c> (on the management listener when there is one).</summary>
    public static WebApplication MapGatewayDefaults(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = HealthResponseWriter.WriteAsync })
            .WithRouteLabel("health", counted: false)
            .OnListeners(Listeners.Both);
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = HealthResponseWriter.WriteAsync })
            .WithRouteLabel("health", counted: false)
            .OnListeners(Listeners.Both);
        app.MapPrometheusScrapingEndpoint("/metrics").WithRouteLabel("metrics", counted: false).OnListeners(Listeners.Management);
        return app;
    }

    /// <summary>True when the standard variables switch OTLP trace export on: the shared endpoint or the traces-only one.</summary>
    public static bool TracesExported(Microsoft.Extensions.Configuration.IConfiguration configuration) =>
        !string.IsNullOrEmpty(configuration?["OTEL_EXPORTER_OTLP_ENDPOINT"]) || !string.IsNullOrEmpty(configuration?["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);

    /// <summary>The correlation id middleware; first in the pipeline so that every later log line carries the id.</summary>
    public static IApplicationBuilder UseGatewayCorrelation(this IApplicationBuilder app) => app.UseMiddleware<CorrelationIdMiddleware>();
}
