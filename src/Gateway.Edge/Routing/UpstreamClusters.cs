using System.Globalization;
using System.Net;
using Gateway.Hosting.Configuration;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace Gateway.Edge.Routing;

/// <summary>
/// Builds YARP's cluster for an upstream: its destinations (with their weights as metadata), the load-balancing policy,
/// the passive and active health checks, the HTTP version used towards the destinations and the idle timeout.
/// </summary>
internal static class UpstreamClusters
{
    /// <summary>The destination metadata key holding a destination's weight.</summary>
    public const string WeightKey = "Gateway.Weight";

    /// <summary>The cluster metadata keys holding <c>passive_health.failures</c> and <c>window</c> (in milliseconds).</summary>
    public const string PassiveFailuresKey = "Gateway.PassiveFailures";

    public const string PassiveWindowKey = "Gateway.PassiveWindowMs";

    public static ClusterConfig Build(UpstreamConfig upstream) => new()
    {
        ClusterId = upstream.Name,
        LoadBalancingPolicy = upstream.IsWeighted ? WeightedLoadBalancingPolicy.PolicyName : upstream.LoadBalancing switch
        {
            LoadBalancingMode.RoundRobin => LoadBalancingPolicies.RoundRobin,
            LoadBalancingMode.LeastRequests => LoadBalancingPolicies.LeastRequests,
            LoadBalancingMode.Random => LoadBalancingPolicies.Random,
            LoadBalancingMode.First => LoadBalancingPolicies.FirstAlphabetical,
            _ => LoadBalancingPolicies.PowerOfTwoChoices,
        },
        Destinations = upstream.Destinations
            .Select((uri, index) => (Id: DestinationId(upstream.Name, index), Config: new DestinationConfig
            {
                Address = uri.ToString(),
                Metadata = upstream.IsWeighted ? new Dictionary<string, string> { [WeightKey] = upstream.Weights[index].ToString(CultureInfo.InvariantCulture) } : null,
            }))
            .ToDictionary(d => d.Id, d => d.Config, StringComparer.Ordinal),
        Metadata = upstream.PassiveHealth is { } passive
            ? new Dictionary<string, string>
            {
                [PassiveFailuresKey] = passive.Failures.ToString(CultureInfo.InvariantCulture),
                [PassiveWindowKey] = ((long)passive.Window.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            }
            : null,
        HealthCheck = new HealthCheckConfig
        {
            // YARP's default (HealthyOrPanic) would send traffic to destinations known to be down; the contract answers 503.
            AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyAndUnknown,
            Passive = new PassiveHealthCheckConfig
            {
                Enabled = true,
                Policy = upstream.PassiveHealth is null ? HealthCheckConstants.PassivePolicy.TransportFailureRate : FailuresInWindowHealthPolicy.PolicyName,
                ReactivationPeriod = upstream.PassiveHealth?.ReactivateAfter ?? TimeSpan.FromSeconds(10),
            },
            Active = upstream.HealthCheck is { } active
                ? new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = active.Interval,
                    Timeout = active.Timeout,
                    Path = active.Path,
                    Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
                }
                : null,
        },

        // The route timeout bounds the whole request; the idle timeout must not be shorter, or it would fire first.
        // http2: exactly HTTP/2, which over http:// is h2c with prior knowledge (what gRPC services speak).
        HttpRequest = new ForwarderRequestConfig
        {
            ActivityTimeout = upstream.Timeout,
            Version = upstream.Http2 ? HttpVersion.Version20 : null,
            VersionPolicy = upstream.Http2 ? HttpVersionPolicy.RequestVersionExact : null,
        },
    };

    public static string DestinationId(string upstream, int index) => $"{upstream}/{index.ToString(CultureInfo.InvariantCulture)}";
}
