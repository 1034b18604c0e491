using System.Collections.Frozen;
using Gateway.Hosting.Configuration;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace Gateway.Edge.Routing;

/// <summary>
/// Feeds YARP with routes and clusters built from <c>gateway.yml</c>, and publishes a new snapshot each time
/// the <see cref="GatewayConfigStore"/> applies a valid change. YARP swaps its endpoints without dropping requests.
/// </summary>
internal sealed class GatewayProxyConfigProvider : IProxyConfigProvider, IDisposable
{
    private readonly GatewayConfigStore _store;
    private readonly IDisposable _subscription;
    private volatile GatewayProxyConfig _current;

    public GatewayProxyConfigProvider(GatewayConfigStore store)
    {
        _store = store;
        _current = Build(store.Current);
        _subscription = ChangeToken.OnChange(store.GetChangeToken, Update);
    }

    /// <summary>The snapshot in force; its route table answers per-request lookups by route id.</summary>
    public GatewayProxyConfig Current => _current;

    public IProxyConfig GetConfig() => _current;

    public void Dispose()
    {
        _subscription.Dispose();
        _current.SignalChange();
    }

    private void Update()
    {
        var next = Build(_store.Current);
        var previous = _current;
        _current = next;
        previous.SignalChange();
    }

    internal static GatewayProxyConfig Build(GatewayConfig config)
    {
        var routes = config.Routes.Select(route => new RouteConfig
        {
            RouteId = route.Id,
            ClusterId = route.Upstream,
            Match = new RouteMatch
            {
                Path = route.Path,
                Methods = route.Methods.IsDefaultOrEmpty ? null : route.Methods,
            },
            Timeout = config.Upstreams[route.Upstream].Timeout,
            Metadata = ForwardedHeaderTransforms.RouteMetadata(route),
        }).ToList();

        var clusters = config.Upstreams.Values.OrderBy(u => u.Name, StringComparer.Ordinal).Select(BuildCluster).ToList();
        var table = config.Routes.ToFrozenDictionary(r => r.Id, StringComparer.Ordinal);
        return new GatewayProxyConfig(config, routes, clusters, table);
    }

    private static ClusterConfig BuildCluster(UpstreamConfig upstream) => new()
    {
        ClusterId = upstream.Name,
        LoadBalancingPolicy = LoadBalancingPolicies.PowerOfTwoChoices,
        Destinations = upstream.Destinations
            .Select((uri, index) => (Id: $"{upstream.Name}/{index}", Config: new DestinationConfig { Address = uri.ToString() }))
            .ToDictionary(d => d.Id, d => d.Config, StringComparer.Ordinal),
        HealthCheck = new HealthCheckConfig
        {
            // YARP's default (HealthyOrPanic) would send traffic to destinations known to be down; the contract answers 503.
            AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyAndUnknown,
            Passive = new PassiveHealthCheckConfig
            {
                Enabled = true,
                Policy = HealthCheckConstants.PassivePolicy.TransportFailureRate,
                ReactivationPeriod = TimeSpan.FromSeconds(10),
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
        HttpRequest = new ForwarderRequestConfig
        {
            ActivityTimeout = upstream.Timeout,
        },
    };
}

/// <summary>One published proxy configuration with the route table of the same revision.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The source is cancelled once and then only dropped; YARP keeps the token, not the snapshot's lifetime.")]
internal sealed class GatewayProxyConfig(
    GatewayConfig source,
    IReadOnlyList<RouteConfig> routes,
    IReadOnlyList<ClusterConfig> clusters,
    FrozenDictionary<string, RouteDefinition> routeTable) : IProxyConfig
{
    private readonly CancellationTokenSource _changed = new();

    public GatewayConfig Source { get; } = source;

    public IReadOnlyList<RouteConfig> Routes { get; } = routes;

    public IReadOnlyList<ClusterConfig> Clusters { get; } = clusters;

    public IChangeToken ChangeToken => new CancellationChangeToken(_changed.Token);

    public RouteDefinition? FindRoute(string routeId) => routeTable.GetValueOrDefault(routeId);

    internal void SignalChange() => _changed.Cancel();
}
