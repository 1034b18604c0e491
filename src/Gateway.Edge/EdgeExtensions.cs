using Gateway.Edge.Observability;
using Gateway.Edge.Pipeline;
using Gateway.Edge.RateLimiting;
using Gateway.Edge.Routing;
using Gateway.Edge.Sessions;
using Gateway.Hosting;
using Gateway.Hosting.Clustering;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Http;
using Gateway.Hosting.Observability;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Dashboard;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Gateway.Edge;

/// <summary>Composition of the edge: an Orleans client (or an in-process silo in embedded mode) in front of YARP.</summary>
public static partial class EdgeExtensions
{
    public static WebApplicationBuilder AddGatewayEdge(this WebApplicationBuilder builder)
    {
        var settings = builder.AddGatewayDefaults("gateway-edge", defaultUrls: "http://0.0.0.0:8080");
        builder.AddManagementListener(settings);

        // Failed admin attempts count per client address as resolved against trusted_proxies.
        builder.Services.Replace(ServiceDescriptor.Singleton(sp => new AdminAttemptLimiter(sp.GetRequiredService<TimeProvider>(), context => context.GatewayRequest().ClientAddress, sp.GetRequiredService<ILogger<AdminAttemptLimiter>>())));
        if (settings.IsEmbedded)
        {
            builder.UseOrleans(silo => silo.ConfigureGatewaySilo(settings, redis: null));
        }
        else
        {
            var redis = new RedisConnection(settings.Redis!);
            builder.Services.AddGatewayRedis(redis);
            builder.UseOrleansClient(client => client.ConfigureGatewayClient(settings, redis));
        }

        // Start Kestrel while the Orleans client is still looking for a silo: health answers, readiness says why not.
        builder.Services.Configure<HostOptions>(options => options.ServicesStartConcurrently = true);
        builder.Services.AddRequestTimeouts(); // YARP validates a route's timeout policy against its options
        builder.Services.AddSingleton<RequestTimeouts>();
        builder.Services.AddSingleton<UpstreamOutcomes>();
        builder.Services.AddSingleton<GatewayProxyConfigProvider>();
        builder.Services.AddSingleton<IProxyConfigProvider>(sp => sp.GetRequiredService<GatewayProxyConfigProvider>());
        builder.Services.AddReverseProxy().AddTransforms<ForwardedHeaderTransforms>().AddTransforms(TraceContextTransforms.Apply);
        builder.Services.AddSingleton<IGatewayConfigValidator, ProxyConfigValidator>();
        builder.AddGatewaySessions(settings);
        builder.Services.AddGatewayRouteFeatures();
        builder.Services.AddGatewayRateLimiting();

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.ConfigureEndpointDefaults(listen =>
            {
                var metrics = listen.ApplicationServices.GetRequiredService<GatewayMetrics>();
                listen.Use(next => async connection =>
                {
                    metrics.ConnectionOpened();
                    try
                    {
                        await next(connection);
                    }
                    finally
                    {
                        metrics.ConnectionClosed();
                    }
                });
            });
        });
        return builder;
    }

    public static WebApplication MapGatewayEdge(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<HostSettings>();
        app.UseMiddleware<RequestTelemetryMiddleware>(); // with the correlation id and the exception handler: one async step
        app.UseMiddleware<GatewayRequestMiddleware>();
        app.UseRouting();

        // Bodiless error answers of the edge's own endpoints become problem+json; a proxied request's answers are the
        // upstream's or the gateway's own problems, so its requests skip the middleware (and its per-request allocations).
        app.UseWhen(
            static context => context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>() is null,
            static pages => pages.UseStatusCodePages(context => ProblemResponse.WriteAsync(context.HttpContext, context.HttpContext.Response.StatusCode)));
        app.UseGatewayCors(); // a route's `cors`: preflights answered here, before the proxy pipeline
        RequestTimeouts.Use(app); // the upstream's `timeout`, ended by the telemetry step
        DestinationHealthReport.Observe(app.Services);

        app.MapGatewayDefaults();
        app.MapRateLimitAdmin(app.Configuration[EnvironmentVariables.AdminToken]);
        if (settings.IsEmbedded)
        {
            // In embedded mode the edge is the silo: it serves the dashboard, behind ADMIN_TOKEN when one is set (else open,
            // for development), on the management listener when there is one.
            var dashboard = app.MapOrleansDashboard("/dashboard").WithRouteLabel("dashboard").OnListeners(Listeners.Management);
            if (!string.IsNullOrEmpty(app.Configuration[EnvironmentVariables.AdminToken]))
            {
                dashboard.AddEndpointFilter(new AdminTokenFilter(app.Configuration[EnvironmentVariables.AdminToken]));
            }
        }

        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<RoutePolicyMiddleware>(); // first: every later step reads the policy it resolves
            proxy.UseGatewayAccessControl(); // allow/deny: 403 before anything else is looked at
            proxy.UseMiddleware<SessionMiddleware>(); // before rate limiting: the session's tier selects the policy
            proxy.UseMiddleware<RateLimitMiddleware>();
            proxy.UseGatewayRequestLimits();
            proxy.UseMiddleware<UpstreamStartMiddleware>();
            proxy.UseMiddleware<RetryMiddleware>(); // around load balancing: a retry picks another destination
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        }).ConfigureEndpoints((endpoint, route) =>
        {
            if (GatewayProxyConfigProvider.TryGetPolicy(route, out var policy))
            {
                endpoint.WithMetadata(policy);
            }
        });

        app.MapGatewaySessions();

        app.MapFallback("{**path}", context => ProblemResponse.WriteAsync(context, StatusCodes.Status404NotFound, $"No route matches {context.Request.Method} {context.Request.Path}."))
            .WithRouteLabel(RequestTelemetryMiddleware.UnmatchedRoute)
            .OnListeners(Listeners.Both);

        if (settings.IsEmbedded)
        {
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Edge");
            app.Lifetime.ApplicationStarted.Register(() => LogEmbeddedMode(logger, EnvironmentVariables.RedisConnection));
        }

        return app;
    }

    [LoggerMessage(EventId = LogEvents.EmbeddedMode, Level = LogLevel.Warning, Message = "Embedded mode: no {Variable}, so this edge hosts its own silo with in-memory state; for development only")]
    private static partial void LogEmbeddedMode(ILogger logger, string variable);
}
