using Gateway.Edge.AccessControl;
using Gateway.Edge.Cors;
using Gateway.Hosting;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Edge.Routing;

/// <summary>Composition of the route and upstream features (weights, passive health, transforms, CORS, retries, limits).</summary>
internal static class RouteFeaturesExtensions
{
    /// <summary>Call after the session services: the route transforms must come after the identity transforms.</summary>
    public static IServiceCollection AddGatewayRouteFeatures(this IServiceCollection services)
    {
        services.AddSingleton<ITransformProvider, RouteTransforms>();
        services.AddSingleton<ILoadBalancingPolicy, WeightedLoadBalancingPolicy>();
        services.AddSingleton<IPassiveHealthCheckPolicy, FailuresInWindowHealthPolicy>();
        services.AddCors();
        services.Replace(ServiceDescriptor.Transient<ICorsPolicyProvider, RouteCorsPolicyProvider>());
        services.AddSingleton<DestinationHealthReport>();
        services.AddHealthChecks().AddCheck<DestinationHealthReport>(DestinationHealthReport.CheckName, tags: [GatewayDefaultsExtensions.ReadyTag]);
        return services;
    }

    /// <summary>
    /// ASP.NET Core's CORS middleware, run only for a request that has an <c>Origin</c> header or whose endpoint has CORS
    /// metadata: for any other request it does nothing but take a request service scope and mark <c>Items</c> (allocations
    /// on every proxied request).
    /// </summary>
    public static IApplicationBuilder UseGatewayCors(this IApplicationBuilder app) =>
        app.UseWhen(
            static context => context.Request.Headers.ContainsKey(HeaderNames.Origin) || context.GetEndpoint()?.Metadata.GetMetadata<ICorsMetadata>() is not null,
            static cors => cors.UseCors());

    /// <summary>The route steps of the proxy pipeline that run before the session check: the client IP lists.</summary>
    public static IReverseProxyApplicationBuilder UseGatewayAccessControl(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<ClientIpAccessMiddleware>();
        return proxy;
    }

    /// <summary>The route steps that run after the limits: the body size, then the retries around load balancing.</summary>
    public static IReverseProxyApplicationBuilder UseGatewayRequestLimits(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<RequestBodyLimitMiddleware>();
        return proxy;
    }
}
