using Gateway.Hosting;
using Gateway.Hosting.Clustering;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Http;
using Gateway.Hosting.Memory;
using Orleans.Dashboard;

namespace Gateway.Silo;

/// <summary>Composition of the silo process: Orleans with the gateway's grains, health, metrics and the dashboard.</summary>
public static class SiloExtensions
{
    public static WebApplicationBuilder AddGatewaySilo(this WebApplicationBuilder builder)
    {
        var settings = builder.AddGatewayDefaults("gateway-silo", defaultUrls: "http://0.0.0.0:8081");
        RedisConnection? redis = null;
        if (!settings.IsEmbedded)
        {
            redis = new RedisConnection(settings.Redis!);
            builder.Services.AddGatewayRedis(redis);
        }

        builder.UseOrleans(silo => silo.ConfigureGatewaySilo(settings, redis));
        builder.Services.AddHostedService<IdleMemoryTrim>();
        return builder;
    }

    public static WebApplication MapGatewaySilo(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<HostSettings>();
        app.UseGatewayCorrelation();
        app.MapGatewayDefaults();
        var dashboard = app.MapOrleansDashboard("/dashboard");
        var adminToken = app.Configuration[EnvironmentVariables.AdminToken];
        if (!settings.IsEmbedded || !string.IsNullOrEmpty(adminToken))
        {
            // The dashboard needs ADMIN_TOKEN (Basic auth with the token as password, or Bearer) whenever one is set; without
            // one it answers 404, except in embedded mode, where it stays open for development.
            dashboard.AddEndpointFilter(new AdminTokenFilter(adminToken));
        }

        return app;
    }
}
