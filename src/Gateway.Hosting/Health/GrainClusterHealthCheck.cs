using Gateway.Grains.Contracts;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Hosting.Health;

/// <summary>
/// Ready when a silo answers a probe grain within a second. <see cref="Probes"/> probe grains are asked at once and the
/// first answer counts: a client sends each grain's calls through one gateway silo chosen by the grain's id, so a
/// single probe grain made every edge unready together whenever its gateway silo was killed or frozen (measured: all
/// three edges out of a balancer's rotation for about a second after a kill -9 of one of two silos).
/// </summary>
public sealed class GrainClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    /// <summary>Probe grains asked per check (stateless workers: each answers on the silo that receives it).</summary>
    public const int Probes = 4;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var silo = await FirstAnswerAsync().WaitAsync(Timeout, cancellationToken);
            return HealthCheckResult.Healthy($"answered by {silo}");
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException or InvalidOperationException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"no silo answered: {ex.GetType().Name}");
        }
    }

    /// <summary>The first probe's answer; the last failure when none answers.</summary>
    private async Task<string> FirstAnswerAsync()
    {
        var pending = Enumerable.Range(0, Probes).Select(key => grains.GetGrain<IClusterProbeGrain>(key).PingAsync()).ToList();
        while (true)
        {
            var done = await Task.WhenAny(pending);
            if (done.IsCompletedSuccessfully || pending.Count == 1)
            {
                return await done;
            }

            pending.Remove(done);
        }
    }
}
