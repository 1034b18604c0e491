using System.Collections.Immutable;
using System.Net;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Gateway.Hosting.Configuration;

/// <summary>The outcome of parsing <c>gateway.yml</c>: a config, or every error found.</summary>
public sealed record GatewayConfigParseResult(GatewayConfig? Config, IReadOnlyList<ConfigError> Errors)
{
    public bool IsValid => Config is not null;
}

/// <summary>Parses and validates <c>gateway.yml</c>, collecting every error with the key that fixes it.</summary>
public static partial class GatewayConfigParser
{
    public static readonly RateLimitPolicy DefaultPolicy = new(100, TimeSpan.FromSeconds(60), 100);
    public static readonly TimeSpan DefaultUpstreamTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultSessionTtl = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan DefaultHealthCheckInterval = TimeSpan.FromSeconds(10);
    public const string DefaultCookieName = "gw_session";

    /// <summary>The longest time a full bucket may take to refill.</summary>
    private const long MaxBucketTicks = 3650 * TimeSpan.TicksPerDay;

    /// <summary>The absolute lifetime of a session from its login when <c>session.max_lifetime</c> is not set.</summary>
    public static readonly TimeSpan DefaultSessionMaxLifetime = TimeSpan.FromHours(24);

    private const string HostCookiePrefix = "__Host-";

    private static readonly string[] HttpMethods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"];

    /// <summary>The largest <c>gateway.yml</c> accepted, in characters.</summary>
    public const int MaxFileLength = 1024 * 1024;

    /// <summary>The deepest nesting of lists and mappings accepted; the real schema needs five levels.</summary>
    public const int MaxDepth = 32;

    /// <summary>The most YAML nodes accepted in one file.</summary>
    public const int MaxNodes = 200_000;

    /// <summary>The longest a timeout or probe interval may be.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);

    /// <param name="yaml">The file's text.</param>
    /// <param name="sessionTtlOverride">The value of <c>SESSION_TTL</c>, which wins over <c>session.ttl</c>.</param>
    /// <returns>A config, or every error found. Never throws for any input: a file that cannot be read is one error.</returns>
    public static GatewayConfigParseResult Parse(string yaml, TimeSpan? sessionTtlOverride = null)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        if (yaml.Length > MaxFileLength)
        {
            return Refused($"is {yaml.Length} characters long; the largest accepted is {MaxFileLength}");
        }

        try
        {
            if (CheckShape(yaml) is { } shapeError)
            {
                return new(null, [shapeError]);
            }

            return ParseChecked(yaml, sessionTtlOverride);
        }
        catch (YamlException ex)
        {
            return new(null, [new ConfigError(FileKey, $"is not valid YAML: {ex.InnerException?.Message ?? ex.Message}", (int)ex.Start.Line)]);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A defect of ours must never crash a process or the reload timer: the file is refused as a whole.
            return Refused($"could not be read ({ex.GetType().Name}: {ex.Message})");
        }
    }

    private const string FileKey = "gateway.yml";

    private static GatewayConfigParseResult Refused(string message) => new(null, [new ConfigError(FileKey, message)]);

    /// <summary>
    /// Walks the YAML events (no recursion) before the node tree is built, whose recursive construction would
    /// overflow the stack on a deeply nested file.
    /// </summary>
    private static ConfigError? CheckShape(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        var depth = 0;
        var nodes = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case MappingStart or SequenceStart:
                    depth++;
                    nodes++;
                    if (depth > MaxDepth)
                    {
                        return new ConfigError(FileKey, $"nests lists and mappings more than {MaxDepth} levels deep", (int)parser.Current.Start.Line);
                    }

                    break;
                case MappingEnd or SequenceEnd:
                    depth--;
                    break;
                case Scalar or AnchorAlias:
                    nodes++;
                    break;
            }

            if (nodes > MaxNodes)
            {
                return new ConfigError(FileKey, $"has more than {MaxNodes} values", (int)parser.Current!.Start.Line);
            }
        }

        return null;
    }

    private static GatewayConfigParseResult ParseChecked(string yaml, TimeSpan? sessionTtlOverride)
    {
        var reader = new YamlNodeReader();
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var root = stream.Documents.Count == 0 ? null : reader.Mapping(stream.Documents[0].RootNode, string.Empty, "upstreams", "routes", "session", "ratelimit", "trusted_proxies");

        var upstreams = ReadUpstreams(reader, YamlNodeReader.Child(root, "upstreams"));
        var routes = ReadRoutes(reader, YamlNodeReader.Child(root, "routes"), upstreams);
        var session = ReadSession(reader, YamlNodeReader.Child(root, "session"), upstreams, sessionTtlOverride);
        var rateLimit = ReadRateLimit(reader, YamlNodeReader.Child(root, "ratelimit"));
        var trusted = ReadTrustedProxies(reader, YamlNodeReader.Child(root, "trusted_proxies"));

        if (reader.Errors.Count > 0)
        {
            return new(null, reader.Errors);
        }

        return new(new GatewayConfig(upstreams, routes, session, rateLimit, trusted), []);
    }

    private static ImmutableArray<IPNetwork> ReadTrustedProxies(YamlNodeReader reader, YamlNode? node) => ReadNetworks(reader, node, "trusted_proxies");

    /// <summary>A list of CIDRs or single addresses (<c>trusted_proxies</c>, a route's <c>allow</c> and <c>deny</c>).</summary>
    private static ImmutableArray<IPNetwork> ReadNetworks(YamlNodeReader reader, YamlNode? node, string key)
    {
        var result = ImmutableArray.CreateBuilder<IPNetwork>();
        foreach (var (text, itemNode, itemKey) in reader.StringList(node, key))
        {
            if (IPNetwork.TryParse(text, out var network))
            {
                result.Add(network);
            }
            else if (IPAddress.TryParse(text, out var address))
            {
                result.Add(new IPNetwork(address, address.GetAddressBytes().Length * 8));
            }
            else
            {
                reader.Error(itemKey, $"'{text}' is not a CIDR such as 10.0.0.0/8 or an IP address", itemNode);
            }
        }

        return result.ToImmutable();
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
    private static partial Regex CookieNamePattern();
}
