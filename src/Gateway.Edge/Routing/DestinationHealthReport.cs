using Gateway.Hosting.Observability;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Gateway.Edge.Routing;

/// <summary>
/// The health of every upstream destination as YARP's active and passive checks see it: published as
/// <c>gateway_upstream_destination_healthy{upstream,destination}</c> and as the <c>upstreams</c> entry of
/// <c>/health/ready</c>, which is information only: it is always Healthy, because a sick upstream must not take the edge
/// out of its load balancer (the edge still answers 503 for that upstream and serves every other one).
/// </summary>
internal sealed class DestinationHealthReport(IProxyStateLookup proxy) : IHealthCheck
{
    public const string CheckName = "upstreams";

    public IEnumerable<(string Upstream, string Destination, bool Healthy)> Read()
    {
        foreach (var cluster in proxy.GetClusters())
        {
            foreach (var destination in cluster.Destinations.Values)
            {
                yield return (cluster.ClusterId, destination.Model.Config.Address, IsHealthy(destination));
            }
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var parts = new List<string>();
        foreach (var group in Read().GroupBy(d => d.Upstream, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var down = group.Where(d => !d.Healthy).Select(d => d.Destination).ToList();
            var healthy = group.Count() - down.Count;
            parts.Add(down.Count == 0
                ? $"{group.Key}: {healthy}/{group.Count()} healthy"
                : $"{group.Key}: {healthy}/{group.Count()} healthy (out: {string.Join(", ", down)})");
        }

        return Task.FromResult(HealthCheckResult.Healthy(string.Join("; ", parts)));
    }

    public static bool IsHealthy(DestinationState destination) =>
        destination.Health.Active != DestinationHealth.Unhealthy && destination.Health.Passive != DestinationHealth.Unhealthy;

    /// <summary>Registers the gauge once the service provider exists.</summary>
    public static void Observe(IServiceProvider services) =>
        services.GetRequiredService<GatewayMetrics>().ObserveDestinationHealth(services.GetRequiredService<DestinationHealthReport>().Read);
}
