using System.Collections.Immutable;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing.Patterns;
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
            var route = reader.Mapping(sequence.Children[i], key, "id", "path", "methods", "upstream", "auth", "ratelimit", "forward_client_headers");
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

    private static RateLimitPolicy? ReadPolicy(YamlNodeReader reader, YamlNode? node, string key)
    {
        var mapping = reader.Mapping(node, key, "requests", "period", "burst");
        if (mapping is null)
        {
            return null;
        }

        var requests = reader.PositiveInteger(YamlNodeReader.Child(mapping, "requests"), $"{key}.requests", required: true);
        var period = reader.Duration(YamlNodeReader.Child(mapping, "period"), $"{key}.period", required: true);
        var burst = reader.PositiveInteger(YamlNodeReader.Child(mapping, "burst"), $"{key}.burst");
        if (requests is null || period is null)
        {
            return null;
        }

        if (period.Value.Ticks / requests.Value == 0)
        {
            reader.Error($"{key}.requests", $"{requests} per {period} is finer than the limiter's 100 ns resolution", mapping);
            return null;
        }

        // The limiter keeps (period / requests) * burst in 100 ns ticks: keep it far from overflowing.
        if ((decimal)(period.Value.Ticks / requests.Value) * (burst ?? requests.Value) > MaxBucketTicks)
        {
            reader.Error($"{key}.burst", $"a bucket of {burst ?? requests} requests at {requests} per {period} spans more than {MaxBucketTicks / TimeSpan.TicksPerDay} days", mapping);
            return null;
        }

        return new RateLimitPolicy(requests.Value, period.Value, burst ?? requests.Value);
    }

    private static SessionConfig ReadSession(YamlNodeReader reader, YamlNode? node, ImmutableDictionary<string, UpstreamConfig> upstreams, TimeSpan? ttlOverride)
    {
        var mapping = reader.Mapping(node, "session", "ttl", "max_lifetime", "cookie", "secure_cookie", "login");
        var ttl = reader.Duration(YamlNodeReader.Child(mapping, "ttl"), "session.ttl") ?? DefaultSessionTtl;
        var maxLifetime = reader.Duration(YamlNodeReader.Child(mapping, "max_lifetime"), "session.max_lifetime") ?? DefaultSessionMaxLifetime;
        var cookie = reader.String(YamlNodeReader.Child(mapping, "cookie"), "session.cookie") ?? DefaultCookieName;
        if (!CookieNamePattern().IsMatch(cookie))
        {
            reader.Error("session.cookie", $"'{cookie}' is not a valid cookie name", YamlNodeReader.Child(mapping, "cookie"));
        }

        var secure = reader.Boolean(YamlNodeReader.Child(mapping, "secure_cookie"), "session.secure_cookie") ?? true;

        // Browsers drop a __Host- cookie unless it is Secure, has Path=/ and no Domain (the gateway sends the last two).
        if (!secure && cookie.StartsWith(HostCookiePrefix, StringComparison.Ordinal))
        {
            reader.Error("session.cookie", $"'{cookie}' uses the {HostCookiePrefix} prefix, which browsers only accept on a Secure cookie; it needs secure_cookie: true", YamlNodeReader.Child(mapping, "cookie"));
        }
        LoginConfig? login = null;
        var loginNode = reader.Mapping(YamlNodeReader.Child(mapping, "login"), "session.login", "upstream", "path");
        if (loginNode is not null)
        {
            var upstream = reader.String(YamlNodeReader.Child(loginNode, "upstream"), "session.login.upstream", required: true);
            var path = reader.String(YamlNodeReader.Child(loginNode, "path"), "session.login.path", required: true);
            if (upstream is not null && upstreams.Count > 0 && !upstreams.ContainsKey(upstream))
            {
                reader.Error("session.login.upstream", $"'{upstream}' is not defined under upstreams", YamlNodeReader.Child(loginNode, "upstream"));
            }

            if (path is not null && !path.StartsWith('/'))
            {
                reader.Error("session.login.path", $"'{path}' must start with '/'", YamlNodeReader.Child(loginNode, "path"));
            }

            if (upstream is not null && path is not null)
            {
                login = new LoginConfig(upstream, path);
            }
        }

        return new SessionConfig(ttlOverride ?? ttl, cookie, secure, login, maxLifetime);
    }

    private static RateLimitConfig ReadRateLimit(YamlNodeReader reader, YamlNode? node)
    {
        var mapping = reader.Mapping(node, "ratelimit", "default", "tiers", "mode", "on_backend_failure");
        var defaultPolicy = ReadPolicy(reader, YamlNodeReader.Child(mapping, "default"), "ratelimit.default") ?? DefaultPolicy;
        var tiers = ImmutableDictionary.CreateBuilder<string, RateLimitPolicy>(StringComparer.Ordinal);
        var tiersNode = reader.Mapping(YamlNodeReader.Child(mapping, "tiers"), "ratelimit.tiers");
        if (tiersNode is not null)
        {
            foreach (var (tier, keyNode, valueNode) in YamlNodeReader.Entries(tiersNode))
            {
                if (!IdPattern().IsMatch(tier))
                {
                    reader.Error($"ratelimit.tiers.{tier}", "tier names may use letters, digits, '.', '_' and '-' only", keyNode);
                }

                if (ReadPolicy(reader, valueNode, $"ratelimit.tiers.{tier}") is { } policy)
                {
                    tiers[tier] = policy;
                }
            }
        }

        var mode = reader.Enum<RateLimitMode>(YamlNodeReader.Child(mapping, "mode"), "ratelimit.mode") ?? RateLimitMode.Exact;
        var onFailure = reader.Enum<BackendFailureMode>(YamlNodeReader.Child(mapping, "on_backend_failure"), "ratelimit.on_backend_failure") ?? BackendFailureMode.Open;
        return new RateLimitConfig(defaultPolicy, tiers.ToImmutable(), mode, onFailure);
    }

    private static ImmutableArray<IPNetwork> ReadTrustedProxies(YamlNodeReader reader, YamlNode? node)
    {
        var result = ImmutableArray.CreateBuilder<IPNetwork>();
        foreach (var (text, itemNode, itemKey) in reader.StringList(node, "trusted_proxies"))
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
