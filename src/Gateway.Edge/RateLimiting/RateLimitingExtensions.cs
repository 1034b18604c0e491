using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Edge.RateLimiting;

/// <summary>Registration of the edge's rate limiter.</summary>
internal static class RateLimitingExtensions
{
    public static IServiceCollection AddGatewayRateLimiting(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<EdgeShare>();
        services.AddSingleton<EdgeRegistryHeartbeat>();
        services.AddHostedService(sp => sp.GetRequiredService<EdgeRegistryHeartbeat>());
        services.AddSingleton<GrainRateLimiter>();
        services.AddSingleton<IRateLimiter>(sp => sp.GetRequiredService<GrainRateLimiter>());
        return services;
    }
}
