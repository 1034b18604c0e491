using System.Collections.Immutable;
using Microsoft.AspNetCore.Routing.Patterns;
using YamlDotNet.RepresentationModel;

namespace Gateway.Hosting.Configuration;

/// <summary>The <c>routes</c> section: ids, path templates, methods, auth and each route's own limit.</summary>
public static partial class GatewayConfigParser
{

    private static ImmutableArray<RouteDefinition> ReadRoutes(YamlNodeReader reader, YamlNode? node, ImmutableDictionary<string, UpstreamConfig> upstreams)
    {
        var result = ImmutableArray.CreateBuilder<RouteDefinition>();
        if (node is null || YamlNodeReader.IsNull(node))
        {
            reader.Error("routes", "is required: list at least one route", node);
            return result.ToImmutable();
        }

        if (node is not YamlSequenceNode sequence)
        {
            reader.Error("routes", "must be a list of routes", node);
            return result.ToImmutable();
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var key = $"routes[{i}]";
            var route = reader.Mapping(
                sequence.Children[i],
                key,
                "id",
                "path",
                "methods",
                "upstream",
                "auth",
                "ratelimit",
                "forward_client_headers",
                "hosts",
                "strip_prefix",
                "rewrite",
                "request_headers",
                "response_headers",
                "max_body",
                "retries",
                "cors",
                "allow",
                "deny");
            if (route is null)
            {
                reader.Error(key, "must be a mapping with id, path and upstream", sequence.Children[i]);
                continue;
            }

            var id = reader.String(YamlNodeReader.Child(route, "id"), $"{key}.id", required: true);
            if (id is not null && !IdPattern().IsMatch(id))
            {
                reader.Error($"{key}.id", $"'{id}' may use letters, digits, '.', '_' and '-' only", YamlNodeReader.Child(route, "id"));
            }
            else if (id is not null && !seen.Add(id))
            {
                reader.Error($"{key}.id", $"'{id}' is used by an earlier route", YamlNodeReader.Child(route, "id"));
            }

            var path = reader.String(YamlNodeReader.Child(route, "path"), $"{key}.path", required: true);
            if (path is not null)
            {
                ValidatePathTemplate(reader, path, $"{key}.path", YamlNodeReader.Child(route, "path"));
            }

            var methods = ImmutableArray.CreateBuilder<string>();
            foreach (var (method, methodNode, methodKey) in reader.StringList(YamlNodeReader.Child(route, "methods"), $"{key}.methods"))
            {
                var upper = method.ToUpperInvariant();
                if (!HttpMethods.Contains(upper, StringComparer.Ordinal))
                {
                    reader.Error(methodKey, $"'{method}' is not an HTTP method ({string.Join(", ", HttpMethods)})", methodNode);
                }
                else if (methods.Contains(upper))
                {
                    reader.Error(methodKey, $"'{method}' is listed twice (methods are matched in any case)", methodNode);
                }
                else
                {
                    methods.Add(upper);
                }
            }

            var upstream = reader.String(YamlNodeReader.Child(route, "upstream"), $"{key}.upstream", required: true);
            if (upstream is not null && upstreams.Count > 0 && !upstreams.ContainsKey(upstream))
            {
                reader.Error($"{key}.upstream", $"'{upstream}' is not defined under upstreams", YamlNodeReader.Child(route, "upstream"));
            }

            var auth = reader.Enum<AuthMode>(YamlNodeReader.Child(route, "auth"), $"{key}.auth") ?? AuthMode.None;
            var rateLimit = ReadRouteRateLimit(reader, YamlNodeReader.Child(route, "ratelimit"), $"{key}.ratelimit");
            var forwardClientHeaders = ForwardableClientHeaders.Read(reader, YamlNodeReader.Child(route, "forward_client_headers"), $"{key}.forward_client_headers");
            result.Add(new RouteDefinition(id ?? string.Empty, path ?? string.Empty, methods.ToImmutable(), upstream ?? string.Empty, auth, rateLimit)
            {
                ForwardClientHeaders = forwardClientHeaders,
                Features = ReadRouteFeatures(reader, route, key, path),
            });
        }

        return result.ToImmutable();
    }

    private static void ValidatePathTemplate(YamlNodeReader reader, string path, string key, YamlNode? node)
    {
        if (!path.StartsWith('/'))
        {
            reader.Error(key, $"'{path}' must start with '/'", node);
            return;
        }

        try
        {
            RoutePatternFactory.Parse(path);
        }
        catch (RoutePatternException ex)
        {
            reader.Error(key, $"'{path}' is not a valid route template: {ex.Message}", node);
        }
    }

    private static RouteRateLimit ReadRouteRateLimit(YamlNodeReader reader, YamlNode? node, string key)
    {
        if (node is null)
        {
            return RouteRateLimit.Inherit;
        }

        if (node is YamlScalarNode scalar)
        {
            // YAML 1.1 readers treat an unquoted off as false; accept both spellings.
            if (scalar.Value is "off" or "false")
            {
                return RouteRateLimit.Off;
            }

            reader.Error(key, $"'{scalar.Value}' must be 'off' or a mapping such as {{ requests: 10, period: 1s, burst: 5 }}", node);
            return RouteRateLimit.Inherit;
        }

        var policy = ReadPolicy(reader, node, key);
        return policy is null ? RouteRateLimit.Inherit : new RouteRateLimit(RouteRateLimitKind.Own, policy);
    }
}
