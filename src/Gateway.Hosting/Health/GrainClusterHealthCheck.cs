using Gateway.Grains.Contracts;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Hosting.Health;

/// <summary>Ready when a silo answers a probe grain within a second.</summary>
public sealed class GrainClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var silo = await grains.GetGrain<IClusterProbeGrain>(0).PingAsync().WaitAsync(Timeout, cancellationToken);
            return HealthCheckResult.Healthy($"answered by {silo}");
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException or InvalidOperationException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"no silo answered: {ex.GetType().Name}");
        }
    }
}
