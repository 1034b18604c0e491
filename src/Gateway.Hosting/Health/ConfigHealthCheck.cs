using Gateway.Hosting.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Hosting.Health;

/// <summary>Ready once <c>gateway.yml</c> is loaded (the process does not start without a valid one).</summary>
public sealed class ConfigHealthCheck(GatewayConfigStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var config = store.Current;
        return Task.FromResult(HealthCheckResult.Healthy($"{config.Routes.Length} routes, {config.Upstreams.Count} upstreams"));
    }
}
