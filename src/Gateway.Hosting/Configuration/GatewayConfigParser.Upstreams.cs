using System.Collections.Immutable;
using YamlDotNet.RepresentationModel;

namespace Gateway.Hosting.Configuration;

/// <summary>The <c>upstreams</c> section: destinations, timeouts, active health checks.</summary>
public static partial class GatewayConfigParser
{
    private static ImmutableDictionary<string, UpstreamConfig> ReadUpstreams(YamlNodeReader reader, YamlNode? node)
    {
        var result = ImmutableDictionary.CreateBuilder<string, UpstreamConfig>(StringComparer.Ordinal);
        var mapping = reader.Mapping(node, "upstreams");
        if (mapping is null)
        {
            reader.Error("upstreams", "is required: name at least one upstream with its destinations", node);
            return result.ToImmutable();
        }

        foreach (var (name, keyNode, valueNode) in YamlNodeReader.Entries(mapping))
        {
            var key = $"upstreams.{name}";
            if (!IdPattern().IsMatch(name))
            {
                reader.Error(key, "upstream names may use letters, digits, '.', '_' and '-' only", keyNode);
            }

            var upstream = reader.Mapping(valueNode, key, "destinations", "timeout", "health_check", "load_balancing", "passive_health", "http2");
            if (upstream is null)
            {
                reader.Error($"{key}.destinations", "is required", valueNode);
                continue;
            }

            var (destinations, weights) = ReadDestinations(reader, YamlNodeReader.Child(upstream, "destinations"), $"{key}.destinations", valueNode);
            var timeout = reader.Duration(YamlNodeReader.Child(upstream, "timeout"), $"{key}.timeout", max: MaxTimeout) ?? DefaultUpstreamTimeout;
            var health = ReadHealthCheck(reader, YamlNodeReader.Child(upstream, "health_check"), $"{key}.health_check");
            var balancing = ReadLoadBalancing(reader, YamlNodeReader.Child(upstream, "load_balancing"), $"{key}.load_balancing");
            if (balancing is not (null or LoadBalancingMode.PowerOfTwo or LoadBalancingMode.Random) && weights.Distinct().Skip(1).Any())
            {
                reader.Error($"{key}.load_balancing", "unequal weights pick destinations at random in proportion to their weight: use power_of_two or random, or equal weights", YamlNodeReader.Child(upstream, "load_balancing"));
            }

            result[name] = new UpstreamConfig(name, destinations, timeout, health)
            {
                Weights = weights,
                LoadBalancing = balancing ?? LoadBalancingMode.PowerOfTwo,
                PassiveHealth = ReadPassiveHealth(reader, YamlNodeReader.Child(upstream, "passive_health"), $"{key}.passive_health"),
                Http2 = reader.Boolean(YamlNodeReader.Child(upstream, "http2"), $"{key}.http2") ?? false,
            };
        }

        return result.ToImmutable();
    }

    private static UpstreamHealthCheck? ReadHealthCheck(YamlNodeReader reader, YamlNode? node, string key)
    {
        var mapping = reader.Mapping(node, key, "path", "interval", "timeout");
        if (mapping is null)
        {
            return null;
        }

        var path = reader.String(YamlNodeReader.Child(mapping, "path"), $"{key}.path", required: true) ?? "/";
        if (!path.StartsWith('/'))
        {
            reader.Error($"{key}.path", $"'{path}' must start with '/'", YamlNodeReader.Child(mapping, "path"));
        }

        var interval = reader.Duration(YamlNodeReader.Child(mapping, "interval"), $"{key}.interval", max: MaxTimeout) ?? DefaultHealthCheckInterval;
        var timeout = reader.Duration(YamlNodeReader.Child(mapping, "timeout"), $"{key}.timeout", max: MaxTimeout)
            ?? TimeSpan.FromTicks(Math.Min(interval.Ticks, TimeSpan.FromSeconds(5).Ticks));
        return new UpstreamHealthCheck(path, interval, timeout);
    }

    /// <summary>The largest <c>weight</c> of a destination.</summary>
    public const int MaxWeight = 1_000_000;

    private static readonly (string Name, LoadBalancingMode Mode)[] LoadBalancingNames =
    [
        ("power_of_two", LoadBalancingMode.PowerOfTwo),
        ("round_robin", LoadBalancingMode.RoundRobin),
        ("least_requests", LoadBalancingMode.LeastRequests),
        ("random", LoadBalancingMode.Random),
        ("first", LoadBalancingMode.First),
    ];

    /// <summary>Destinations as plain URLs or <c>{ url, weight }</c> entries; the weights are empty when no entry has one.</summary>
    private static (ImmutableArray<Uri> Destinations, ImmutableArray<int> Weights) ReadDestinations(YamlNodeReader reader, YamlNode? node, string key, YamlNode parent)
    {
        var destinations = ImmutableArray.CreateBuilder<Uri>();
        var weights = ImmutableArray.CreateBuilder<int>();
        var weighted = false;
        IList<YamlNode> items = node switch
        {
            YamlSequenceNode sequence => sequence.Children,
            null => [],
            YamlScalarNode when YamlNodeReader.IsNull(node) => [],
            YamlScalarNode scalar => [scalar],
            _ => [],
        };
        if (node is YamlMappingNode)
        {
            reader.Error(key, "must be a list of addresses or { url, weight } entries", node);
        }
        else if (items.Count == 0)
        {
            reader.Error(key, "needs at least one address such as http://127.0.0.1:5001", node ?? parent);
        }

        for (var i = 0; i < items.Count; i++)
        {
            var itemKey = node is YamlSequenceNode ? $"{key}[{i}]" : key;
            var item = items[i];
            var weight = 1;
            YamlNode? urlNode = item;
            var urlKey = itemKey;
            if (item is YamlMappingNode)
            {
                var entry = reader.Mapping(item, itemKey, "url", "weight");
                urlNode = YamlNodeReader.Child(entry, "url");
                urlKey = $"{itemKey}.url";
                var weightNode = YamlNodeReader.Child(entry, "weight");
                if (weightNode is not null)
                {
                    weighted = true;
                    weight = ReadWeight(reader, weightNode, $"{itemKey}.weight") ?? 1;
                }
            }

            var text = reader.String(urlNode, urlKey, required: true);
            if (text is null)
            {
                continue;
            }

            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                destinations.Add(uri);
                weights.Add(weight);
            }
            else
            {
                reader.Error(urlKey, $"'{text}' is not an absolute http:// or https:// address", urlNode);
            }
        }

        return (destinations.ToImmutable(), weighted ? weights.ToImmutable() : []);
    }

    private static int? ReadWeight(YamlNodeReader reader, YamlNode node, string key)
    {
        var text = reader.String(node, key, required: true);
        if (text is null)
        {
            return null;
        }

        if (!int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var weight) || weight <= 0 || weight > MaxWeight)
        {
            reader.Error(key, $"'{text}' is not a whole number from 1 to {MaxWeight}", node);
            return null;
        }

        return weight;
    }

    private static LoadBalancingMode? ReadLoadBalancing(YamlNodeReader reader, YamlNode? node, string key)
    {
        var text = reader.String(node, key);
        if (text is null)
        {
            return null;
        }

        foreach (var (name, mode) in LoadBalancingNames)
        {
            if (string.Equals(name, text, StringComparison.Ordinal))
            {
                return mode;
            }
        }

        reader.Error(key, $"'{text}' is not one of {string.Join(" | ", LoadBalancingNames.Select(n => n.Name))}", node);
        return null;
    }

    private static PassiveHealthConfig? ReadPassiveHealth(YamlNodeReader reader, YamlNode? node, string key)
    {
        var mapping = reader.Mapping(node, key, "failures", "window", "reactivate_after");
        if (mapping is null)
        {
            return null;
        }

        var failures = reader.PositiveInteger(YamlNodeReader.Child(mapping, "failures"), $"{key}.failures") ?? 5;
        if (failures > 10_000)
        {
            reader.Error($"{key}.failures", $"'{failures}' is more than 10000", YamlNodeReader.Child(mapping, "failures"));
        }

        var window = reader.Duration(YamlNodeReader.Child(mapping, "window"), $"{key}.window", max: MaxTimeout) ?? TimeSpan.FromSeconds(10);
        var reactivate = reader.Duration(YamlNodeReader.Child(mapping, "reactivate_after"), $"{key}.reactivate_after", max: MaxTimeout) ?? TimeSpan.FromSeconds(30);
        return new PassiveHealthConfig((int)Math.Min(failures, 10_000), window, reactivate);
    }
}
