using System.Collections.Immutable;
using System.Globalization;
using Microsoft.AspNetCore.Routing.Patterns;
using YamlDotNet.RepresentationModel;

namespace Gateway.Hosting.Configuration;

/// <summary>A route's features: hosts, strip_prefix/rewrite, header transforms, max_body, retries, cors, allow/deny.</summary>
public static partial class GatewayConfigParser
{
    /// <summary>The statuses a route may retry on; anything else is an answer, not a failure to retry.</summary>
    private static readonly int[] RetryableStatuses = [500, 502, 503, 504];

    /// <summary>The largest <c>max_body</c>: 16 GiB.</summary>
    public const long MaxBodyLimit = 16L * 1024 * 1024 * 1024;

    private const int MaxRetryAttempts = 5;

    private static RouteFeatures ReadRouteFeatures(YamlNodeReader reader, YamlMappingNode route, string key, string? path)
    {
        var stripPrefix = ReadStripPrefix(reader, YamlNodeReader.Child(route, "strip_prefix"), $"{key}.strip_prefix", path);
        var rewrite = ReadRewrite(reader, YamlNodeReader.Child(route, "rewrite"), $"{key}.rewrite", path);
        if (stripPrefix is not null && rewrite is not null)
        {
            reader.Error($"{key}.rewrite", "cannot be used together with strip_prefix: choose one", YamlNodeReader.Child(route, "rewrite"));
        }

        return new RouteFeatures
        {
            Hosts = ReadHosts(reader, YamlNodeReader.Child(route, "hosts"), $"{key}.hosts"),
            StripPrefix = stripPrefix,
            Rewrite = rewrite,
            RequestHeaders = ReadHeaderRules(reader, YamlNodeReader.Child(route, "request_headers"), $"{key}.request_headers", request: true),
            ResponseHeaders = ReadHeaderRules(reader, YamlNodeReader.Child(route, "response_headers"), $"{key}.response_headers", request: false),
            MaxBody = ReadSize(reader, YamlNodeReader.Child(route, "max_body"), $"{key}.max_body") ?? RouteFeatures.DefaultMaxBody,
            Retries = ReadRetries(reader, YamlNodeReader.Child(route, "retries"), $"{key}.retries"),
            Cors = ReadCors(reader, YamlNodeReader.Child(route, "cors"), $"{key}.cors"),
            Allow = ReadNetworks(reader, YamlNodeReader.Child(route, "allow"), $"{key}.allow"),
            Deny = ReadNetworks(reader, YamlNodeReader.Child(route, "deny"), $"{key}.deny"),
        };
    }

    private static ImmutableArray<string> ReadHosts(YamlNodeReader reader, YamlNode? node, string key)
    {
        var hosts = ImmutableArray.CreateBuilder<string>();
        foreach (var (host, itemNode, itemKey) in reader.StringList(node, key))
        {
            if (HostPattern().IsMatch(host))
            {
                hosts.Add(host);
            }
            else
            {
                reader.Error(itemKey, $"'{host}' is not a host name such as api.example.com, *.example.com or api.example.com:8443", itemNode);
            }
        }

        return hosts.ToImmutable();
    }

    private static string? ReadStripPrefix(YamlNodeReader reader, YamlNode? node, string key, string? path)
    {
        var prefix = reader.String(node, key);
        if (prefix is null)
        {
            return null;
        }

        var trimmed = prefix.TrimEnd('/');
        if (!prefix.StartsWith('/') || trimmed.Length == 0 || prefix.Contains('{', StringComparison.Ordinal) || prefix.Contains('%', StringComparison.Ordinal))
        {
            reader.Error(key, $"'{prefix}' must be a literal path such as /api/v1", node);
            return null;
        }

        // The prefix must be whole leading segments of the route's path, or no request of the route could have it.
        if (path is not null && !(path.StartsWith(trimmed, StringComparison.OrdinalIgnoreCase) && (path.Length == trimmed.Length || path[trimmed.Length] == '/')))
        {
            reader.Error(key, $"'{prefix}' is not a leading part of the route's path '{path}'", node);
            return null;
        }

        return trimmed;
    }

    private static string? ReadRewrite(YamlNodeReader reader, YamlNode? node, string key, string? path)
    {
        var rewrite = reader.String(node, key);
        if (rewrite is null)
        {
            return null;
        }

        if (!rewrite.StartsWith('/'))
        {
            reader.Error(key, $"'{rewrite}' must start with '/'", node);
            return null;
        }

        try
        {
            var pattern = RoutePatternFactory.Parse(rewrite);
            var routeParameters = path is null ? [] : SafeParameters(path);
            foreach (var parameter in pattern.Parameters)
            {
                if (!routeParameters.Contains(parameter.Name, StringComparer.OrdinalIgnoreCase))
                {
                    reader.Error(key, $"'{{{parameter.Name}}}' is not a parameter of the route's path '{path}'", node);
                    return null;
                }
            }
        }
        catch (RoutePatternException ex)
        {
            reader.Error(key, $"'{rewrite}' is not a valid path template: {ex.Message}", node);
            return null;
        }

        return rewrite;
    }

    private static string[] SafeParameters(string path)
    {
        try
        {
            return [.. RoutePatternFactory.Parse(path).Parameters.Select(p => p.Name)];
        }
        catch (RoutePatternException)
        {
            return []; // reported on the path itself
        }
    }

    private static HeaderRules ReadHeaderRules(YamlNodeReader reader, YamlNode? node, string key, bool request)
    {
        var mapping = reader.Mapping(node, key, "set", "remove");
        if (mapping is null)
        {
            return HeaderRules.None;
        }

        var set = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        if (reader.Mapping(YamlNodeReader.Child(mapping, "set"), $"{key}.set") is { } setMapping)
        {
            foreach (var (name, nameNode, valueNode) in YamlNodeReader.Entries(setMapping))
            {
                var itemKey = $"{key}.set.{name}";
                var value = reader.String(valueNode, itemKey) ?? string.Empty;
                if (!HeaderNamePattern().IsMatch(name))
                {
                    reader.Error(itemKey, $"'{name}' is not a header name", nameNode);
                }
                else if (request && name.Replace('_', '-').StartsWith("X-User-", StringComparison.OrdinalIgnoreCase))
                {
                    reader.Error(itemKey, "X-User-* headers carry the session's identity and are set by the gateway only", nameNode);
                }
                else if (value.Any(c => c is '\r' or '\n' or '\0'))
                {
                    reader.Error(itemKey, "a header value may not contain line breaks", valueNode);
                }
                else
                {
                    set.Add(new(name, value));
                }
            }
        }

        var remove = ImmutableArray.CreateBuilder<string>();
        foreach (var (name, itemNode, itemKey) in reader.StringList(YamlNodeReader.Child(mapping, "remove"), $"{key}.remove"))
        {
            if (HeaderNamePattern().IsMatch(name))
            {
                remove.Add(name);
            }
            else
            {
                reader.Error(itemKey, $"'{name}' is not a header name", itemNode);
            }
        }

        return new HeaderRules(set.ToImmutable(), remove.ToImmutable());
    }

    /// <summary>A size: bare bytes or a number with <c>B</c>, <c>KB</c>, <c>MB</c> or <c>GB</c> (powers of 1024).</summary>
    private static long? ReadSize(YamlNodeReader reader, YamlNode? node, string key)
    {
        var text = reader.String(node, key);
        if (text is null)
        {
            return null;
        }

        var match = SizePattern().Match(text.Trim());
        if (!match.Success || !long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            reader.Error(key, $"'{text}' is not a size such as 512KB, 1MB or 10485760, greater than zero", node);
            return null;
        }

        var unit = match.Groups[2].Value.ToUpperInvariant() switch
        {
            "KB" => 1024L,
            "MB" => 1024L * 1024,
            "GB" => 1024L * 1024 * 1024,
            _ => 1L,
        };
        if (number > MaxBodyLimit / unit)
        {
            reader.Error(key, $"'{text}' is larger than the largest value this key accepts (16GB)", node);
            return null;
        }

        return number * unit;
    }

    private static RetryPolicy? ReadRetries(YamlNodeReader reader, YamlNode? node, string key)
    {
        var mapping = reader.Mapping(node, key, "attempts", "on");
        if (mapping is null)
        {
            return null;
        }

        var attempts = reader.PositiveInteger(YamlNodeReader.Child(mapping, "attempts"), $"{key}.attempts", required: true) ?? 1;
        if (attempts > MaxRetryAttempts)
        {
            reader.Error($"{key}.attempts", $"'{attempts}' is more than {MaxRetryAttempts}", YamlNodeReader.Child(mapping, "attempts"));
        }

        var connect = false;
        var statuses = ImmutableArray.CreateBuilder<int>();
        var on = reader.StringList(YamlNodeReader.Child(mapping, "on"), $"{key}.on");
        foreach (var (text, itemNode, itemKey) in on)
        {
            if (text == "connect_failure")
            {
                connect = true;
            }
            else if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var status) && RetryableStatuses.Contains(status))
            {
                statuses.Add(status);
            }
            else
            {
                reader.Error(itemKey, $"'{text}' is not connect_failure or one of {string.Join(", ", RetryableStatuses)}", itemNode);
            }
        }

        if (on.Count == 0)
        {
            connect = true; // a retry policy without `on` retries what is always safe to retry
        }

        return new RetryPolicy((int)Math.Min(attempts, MaxRetryAttempts), connect, statuses.ToImmutable());
    }
}
