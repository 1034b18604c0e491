using Gateway.Hosting;
using Gateway.Hosting.Clustering;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Http;
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
        return builder;
    }

    public static WebApplication MapGatewaySilo(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<HostSettings>();
        app.UseGatewayCorrelation();
        app.MapGatewayDefaults();
        var dashboard = app.MapOrleansDashboard("/dashboard");
        if (!settings.IsEmbedded)
        {
            // Outside embedded mode the dashboard needs ADMIN_TOKEN (Basic auth with the token as password, or Bearer).
            dashboard.AddEndpointFilter(new AdminTokenFilter(app.Configuration[EnvironmentVariables.AdminToken]));
        }

        return app;
    }
}
