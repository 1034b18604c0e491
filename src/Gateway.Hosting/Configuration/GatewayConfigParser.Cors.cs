using System.Collections.Immutable;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Gateway.Hosting.Configuration;

/// <summary>A route's <c>cors</c> policy, and the patterns the route features check names with.</summary>
public static partial class GatewayConfigParser
{
    private static CorsConfig? ReadCors(YamlNodeReader reader, YamlNode? node, string key)
    {
        var mapping = reader.Mapping(node, key, "origins", "methods", "headers", "credentials", "max_age");
        if (mapping is null)
        {
            return null;
        }

        var origins = ImmutableArray.CreateBuilder<string>();
        var listed = reader.StringList(YamlNodeReader.Child(mapping, "origins"), $"{key}.origins");
        if (listed.Count == 0)
        {
            reader.Error($"{key}.origins", "is required: list the allowed origins, such as https://app.example.com, or \"*\"", YamlNodeReader.Child(mapping, "origins") ?? node);
        }

        foreach (var (origin, itemNode, itemKey) in listed)
        {
            if (origin == "*" || Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.PathAndQuery == "/" && !origin.EndsWith('/'))
            {
                origins.Add(origin);
            }
            else
            {
                reader.Error(itemKey, $"'{origin}' is not an origin such as https://app.example.com (scheme, host and port, no path) or \"*\"", itemNode);
            }
        }

        var methods = ImmutableArray.CreateBuilder<string>();
        foreach (var (method, itemNode, itemKey) in reader.StringList(YamlNodeReader.Child(mapping, "methods"), $"{key}.methods"))
        {
            var upper = method.ToUpperInvariant();
            if (upper == "*" || HttpMethods.Contains(upper, StringComparer.Ordinal))
            {
                methods.Add(upper);
            }
            else
            {
                reader.Error(itemKey, $"'{method}' is not an HTTP method or \"*\"", itemNode);
            }
        }

        var headers = ImmutableArray.CreateBuilder<string>();
        foreach (var (header, itemNode, itemKey) in reader.StringList(YamlNodeReader.Child(mapping, "headers"), $"{key}.headers"))
        {
            if (header == "*" || HeaderNamePattern().IsMatch(header))
            {
                headers.Add(header);
            }
            else
            {
                reader.Error(itemKey, $"'{header}' is not a header name or \"*\"", itemNode);
            }
        }

        var credentials = reader.Boolean(YamlNodeReader.Child(mapping, "credentials"), $"{key}.credentials") ?? false;
        if (credentials && origins.Contains("*"))
        {
            reader.Error($"{key}.credentials", "true cannot be combined with origins [\"*\"]: browsers refuse credentials for any origin; list the origins", YamlNodeReader.Child(mapping, "credentials"));
        }

        var maxAge = reader.Duration(YamlNodeReader.Child(mapping, "max_age"), $"{key}.max_age", max: TimeSpan.FromDays(1));
        return new CorsConfig(origins.ToImmutable(), methods.ToImmutable(), headers.ToImmutable(), credentials, maxAge);
    }

    /// <summary>An HTTP header name (RFC 9110 token).</summary>
    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
    private static partial Regex HeaderNamePattern();

    /// <summary>A host name, optionally with a leading <c>*.</c> wildcard and a port, as YARP's host match takes them.</summary>
    [GeneratedRegex(@"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$")]
    private static partial Regex HostPattern();

    [GeneratedRegex("^([0-9]+)\\s*(B|KB|MB|GB|)$", RegexOptions.IgnoreCase)]
    private static partial Regex SizePattern();
}
