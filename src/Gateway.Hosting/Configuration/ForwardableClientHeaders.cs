using System.Collections.Immutable;
using YamlDotNet.RepresentationModel;

namespace Gateway.Hosting.Configuration;

/// <summary>
/// The client request headers the gateway drops unless a route lists them in <c>forward_client_headers</c>: each one lets
/// a client claim an address, a URL or a method that some upstream framework believes.
/// </summary>
public static class ForwardableClientHeaders
{
    public const string RealIp = "X-Real-IP";
    public const string OriginalUrl = "X-Original-URL";
    public const string HttpMethodOverride = "X-HTTP-Method-Override";

    /// <summary>The names a route may list, in their canonical spelling.</summary>
    public static ImmutableArray<string> All { get; } = [RealIp, OriginalUrl, HttpMethodOverride];

    /// <summary>The canonical spelling of <paramref name="name"/> (any case), or null when a route may not list it.</summary>
    public static string? Canonical(string name)
    {
        foreach (var candidate in All)
        {
            if (candidate.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Reads a route's <c>forward_client_headers</c>: a list of the names in <see cref="All"/>, any case.</summary>
    internal static ImmutableArray<string> Read(YamlNodeReader reader, YamlNode? node, string key)
    {
        var result = ImmutableArray.CreateBuilder<string>();
        foreach (var (name, itemNode, itemKey) in reader.StringList(node, key))
        {
            if (Canonical(name) is { } canonical)
            {
                if (!result.Contains(canonical))
                {
                    result.Add(canonical);
                }
            }
            else
            {
                reader.Error(itemKey, $"'{name}' cannot be forwarded from clients; a route may list only {string.Join(", ", All)}", itemNode);
            }
        }

        return result.ToImmutable();
    }
}
