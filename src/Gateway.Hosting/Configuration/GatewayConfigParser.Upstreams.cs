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

            var upstream = reader.Mapping(valueNode, key, "destinations", "timeout", "health_check");
            if (upstream is null)
            {
                reader.Error($"{key}.destinations", "is required", valueNode);
                continue;
            }

            var destinations = ImmutableArray.CreateBuilder<Uri>();
            var listed = reader.StringList(YamlNodeReader.Child(upstream, "destinations"), $"{key}.destinations");
            if (listed.Count == 0)
            {
                reader.Error($"{key}.destinations", "needs at least one address such as http://127.0.0.1:5001", valueNode);
            }

            foreach (var (text, itemNode, itemKey) in listed)
            {
                if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
                {
                    destinations.Add(uri);
                }
                else
                {
                    reader.Error(itemKey, $"'{text}' is not an absolute http:// or https:// address", itemNode);
                }
            }

            var timeout = reader.Duration(YamlNodeReader.Child(upstream, "timeout"), $"{key}.timeout", max: MaxTimeout) ?? DefaultUpstreamTimeout;
            var health = ReadHealthCheck(reader, YamlNodeReader.Child(upstream, "health_check"), $"{key}.health_check");
            result[name] = new UpstreamConfig(name, destinations.ToImmutable(), timeout, health);
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
}
