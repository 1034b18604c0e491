using System.Globalization;
using System.Runtime.CompilerServices;
using Gateway.Hosting.Configuration;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Edge.Routing;

/// <summary>
/// Feeds YARP with routes and clusters built from <c>gateway.yml</c>, and publishes a new snapshot each time
/// the <see cref="GatewayConfigStore"/> applies a valid change. YARP swaps its endpoints without dropping requests.
/// Each YARP route carries its gateway policy (<see cref="GatewayRoute"/>) into the endpoint YARP builds from it, so a
/// request is judged by the revision of the endpoint it matched, never by a newer file YARP may not have taken.
/// </summary>
internal sealed class GatewayProxyConfigProvider : IProxyConfigProvider, IDisposable
{
    /// <summary>The YARP route metadata key holding the revision a route was built from; a new revision rebuilds every endpoint.</summary>
    public const string RevisionKey = "Gateway.Revision";

    private static readonly ConditionalWeakTable<RouteConfig, GatewayRoute> Policies = [];
    private static long _revisions;

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

    /// <summary>The gateway policy YARP's <paramref name="route"/> was built with; false for a route this provider did not build.</summary>
    public static bool TryGetPolicy(RouteConfig route, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GatewayRoute? policy) =>
        Policies.TryGetValue(route, out policy);

    internal static GatewayProxyConfig Build(GatewayConfig config)
    {
        var revision = Interlocked.Increment(ref _revisions).ToString(CultureInfo.InvariantCulture);
        var routes = new List<RouteConfig>(config.Routes.Length);
        foreach (var route in config.Routes)
        {
            var yarpRoute = new RouteConfig
            {
                RouteId = route.Id,
                ClusterId = route.Upstream,
                Match = new RouteMatch
                {
                    Path = route.Path,
                    Methods = route.Methods.IsDefaultOrEmpty ? null : route.Methods,
                    Hosts = route.Features.Hosts.IsDefaultOrEmpty ? null : route.Features.Hosts,
                },
                CorsPolicy = route.Features.Cors is null ? null : Cors.RouteCorsPolicyProvider.PolicyName(route.Id),
                Timeout = config.Upstreams.TryGetValue(route.Upstream, out var upstream) ? upstream.Timeout : null,
                Metadata = RouteMetadata(route, revision),
            };
            Policies.AddOrUpdate(yarpRoute, new GatewayRoute(route, config));
            routes.Add(yarpRoute);
        }

        var clusters = config.Upstreams.Values.OrderBy(u => u.Name, StringComparer.Ordinal).Select(UpstreamClusters.Build).ToList();
        return new GatewayProxyConfig(config, routes, clusters);
    }

    private static Dictionary<string, string> RouteMetadata(RouteDefinition route, string revision)
    {
        var metadata = ForwardedHeaderTransforms.RouteMetadata(route) ?? new Dictionary<string, string>(StringComparer.Ordinal);
        metadata[RevisionKey] = revision;
        return metadata;
    }
}

/// <summary>A route's gateway policy (auth, limits, upstream) and the configuration revision it belongs to.</summary>
internal sealed record GatewayRoute(RouteDefinition Route, GatewayConfig Config);

/// <summary>One published proxy configuration.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The source is cancelled once and then only dropped; YARP keeps the token, not the snapshot's lifetime.")]
internal sealed class GatewayProxyConfig(
    GatewayConfig source,
    IReadOnlyList<RouteConfig> routes,
    IReadOnlyList<ClusterConfig> clusters) : IProxyConfig
{
    private readonly CancellationTokenSource _changed = new();

    public GatewayConfig Source { get; } = source;

    public IReadOnlyList<RouteConfig> Routes { get; } = routes;

    public IReadOnlyList<ClusterConfig> Clusters { get; } = clusters;

    public IChangeToken ChangeToken => new CancellationChangeToken(_changed.Token);

    internal void SignalChange() => _changed.Cancel();
}
