using System.Globalization;
using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Gateway.Edge.Routing;

/// <summary>
/// YARP passive health policy for <c>passive_health</c>: a destination that fails <c>failures</c> times within <c>window</c>
/// is marked unhealthy, and YARP's health updater reactivates it after the cluster's reactivation period
/// (<c>reactivate_after</c>). A failure is a transport failure or timeout towards the destination, or a 5xx answer from it;
/// a client that goes away is no failure of the destination.
/// </summary>
internal sealed class FailuresInWindowHealthPolicy(TimeProvider time, IDestinationHealthUpdater updater) : IPassiveHealthCheckPolicy
{
    public const string PolicyName = "Gateway.FailuresInWindow";

    private readonly ConditionalWeakTable<DestinationState, Queue<long>> _failures = [];

    public string Name => PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(destination);
        var config = cluster.Model.Config;
        var reactivation = config.HealthCheck?.Passive?.ReactivationPeriod ?? TimeSpan.FromSeconds(30);
        if (!Failed(context))
        {
            if (destination.Health.Passive != DestinationHealth.Healthy)
            {
                updater.SetPassive(cluster, destination, DestinationHealth.Healthy, reactivation);
            }

            return;
        }

        var failures = Read(config.Metadata, UpstreamClusters.PassiveFailuresKey, 5);
        var window = TimeSpan.FromMilliseconds(Read(config.Metadata, UpstreamClusters.PassiveWindowKey, 10_000));
        var now = time.GetTimestamp();
        var history = _failures.GetOrCreateValue(destination);
        bool eject;
        lock (history)
        {
            while (history.Count > 0 && time.GetElapsedTime(history.Peek(), now) > window)
            {
                history.Dequeue();
            }

            history.Enqueue(now);
            eject = history.Count >= failures;
            if (eject)
            {
                history.Clear(); // a reactivated destination starts with a clean record
            }
        }

        if (eject)
        {
            updater.SetPassive(cluster, destination, DestinationHealth.Unhealthy, reactivation);
        }
    }

    private static bool Failed(HttpContext context)
    {
        if (context.GetForwarderErrorFeature() is { Error: not ForwarderError.None } error)
        {
            return error.Error is not (ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
                or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient or ForwarderError.UpgradeRequestCanceled
                or ForwarderError.UpgradeRequestClient or ForwarderError.UpgradeResponseCanceled or ForwarderError.UpgradeResponseClient);
        }

        return context.Response.StatusCode >= StatusCodes.Status500InternalServerError;
    }

    private static long Read(IReadOnlyDictionary<string, string>? metadata, string key, long fallback) =>
        metadata?.TryGetValue(key, out var text) == true && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
