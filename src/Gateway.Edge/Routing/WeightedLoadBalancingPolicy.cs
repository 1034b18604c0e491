using System.Globalization;
using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Gateway.Edge.Routing;

/// <summary>
/// YARP has no weighted destinations: this policy picks an available destination at random in proportion to its
/// <c>weight</c> (destination metadata <see cref="UpstreamClusters.WeightKey"/>). The weight is read from the destination's
/// current model, so a reload that changes weights applies to the next request without dropping any.
/// </summary>
internal sealed class WeightedLoadBalancingPolicy : ILoadBalancingPolicy
{
    public const string PolicyName = "Gateway.Weighted";

    /// <summary>Parsed weights per destination config; a reload builds new configs, so entries never go stale.</summary>
    private readonly ConditionalWeakTable<Yarp.ReverseProxy.Configuration.DestinationConfig, StrongBox<int>> _weights = [];

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        ArgumentNullException.ThrowIfNull(availableDestinations);
        var count = availableDestinations.Count;
        if (count <= 1)
        {
            return count == 0 ? null : availableDestinations[0];
        }

        long total = 0;
        Span<int> weights = count <= 64 ? stackalloc int[count] : new int[count];
        for (var i = 0; i < count; i++)
        {
            weights[i] = Weight(availableDestinations[i]);
            total += weights[i];
        }

        var pick = Random.Shared.NextInt64(total);
        for (var i = 0; i < count; i++)
        {
            pick -= weights[i];
            if (pick < 0)
            {
                return availableDestinations[i];
            }
        }

        return availableDestinations[count - 1];
    }

    private int Weight(DestinationState destination)
    {
        var config = destination.Model.Config;
        return _weights.GetValue(config, static c =>
            new StrongBox<int>(c.Metadata?.TryGetValue(UpstreamClusters.WeightKey, out var text) == true
                && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var weight) && weight > 0 ? weight : 1)).Value;
    }
}
