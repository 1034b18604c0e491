using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Gateway.Hosting.Health;

/// <summary>Not ready from the moment the process is asked to stop, so that load balancers take it out before it goes.</summary>
public sealed class DrainHealthCheck(IHostApplicationLifetime lifetime, ShutdownDrain drain) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(drain.IsDraining || lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("shutting down")
            : HealthCheckResult.Healthy("serving"));
}
