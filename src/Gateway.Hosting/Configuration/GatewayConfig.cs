using System.Collections.Immutable;
using System.Net;

namespace Gateway.Hosting.Configuration;

/// <summary>The validated, immutable content of <c>gateway.yml</c>.</summary>
public sealed record GatewayConfig(
    ImmutableDictionary<string, UpstreamConfig> Upstreams,
    ImmutableArray<RouteDefinition> Routes,
    SessionConfig Session,
    RateLimitConfig RateLimit,
    ImmutableArray<IPNetwork> TrustedProxies);

/// <summary>A named group of destinations that routes forward to.</summary>
public sealed record UpstreamConfig(
    string Name,
    ImmutableArray<Uri> Destinations,
    TimeSpan Timeout,
    UpstreamHealthCheck? HealthCheck)
{
    /// <summary>The weight of each destination, in the order of <see cref="Destinations"/>; empty when none was given (all equal).</summary>
    public ImmutableArray<int> Weights { get; init; } = [];

    public LoadBalancingMode LoadBalancing { get; init; } = LoadBalancingMode.PowerOfTwo;

    /// <summary><c>passive_health</c>; null keeps the gateway's default passive check (transport failures).</summary>
    public PassiveHealthConfig? PassiveHealth { get; init; }

    /// <summary><c>http2</c>: requests go to the destinations over HTTP/2 (h2c for http:// addresses).</summary>
    public bool Http2 { get; init; }

    /// <summary>True when the destinations carry different weights.</summary>
    public bool IsWeighted => !Weights.IsDefaultOrEmpty && Weights.Distinct().Skip(1).Any();
}

/// <summary>Active health probing of an upstream's destinations.</summary>
public sealed record UpstreamHealthCheck(string Path, TimeSpan Interval, TimeSpan Timeout);

/// <summary>One route: a path template (YARP syntax) forwarded to an upstream.</summary>
public sealed record RouteDefinition(
    string Id,
    string Path,
    ImmutableArray<string> Methods,
    string Upstream,
    AuthMode Auth,
    RouteRateLimit RateLimit)
{
    /// <summary>
    /// <c>forward_client_headers</c>: which of <see cref="ForwardableClientHeaders.All"/> the client may send upstream on this
    /// route (canonical spelling); empty by default, and every other route drops them.
    /// </summary>
    public ImmutableArray<string> ForwardClientHeaders { get; init; } = [];

    /// <summary>Host match, path rewriting, header transforms, body size, retries, CORS and client IP lists.</summary>
    public RouteFeatures Features { get; init; } = RouteFeatures.Default;
}

/// <summary>Whether a route needs a session.</summary>
public enum AuthMode
{
    None,
    Optional,
    Required,
}

/// <summary>What a route says about rate limiting.</summary>
public enum RouteRateLimitKind
{
    /// <summary>No <c>ratelimit</c> key: the session tier's policy, else <c>ratelimit.default</c>.</summary>
    Inherit,

    /// <summary><c>ratelimit: off</c>.</summary>
    Off,

    /// <summary>The route's own policy, counted per route.</summary>
    Own,
}

/// <summary>A route's rate-limit setting; <see cref="Policy"/> is set only for <see cref="RouteRateLimitKind.Own"/>.</summary>
public sealed record RouteRateLimit(RouteRateLimitKind Kind, RateLimitPolicy? Policy)
{
    public static RouteRateLimit Inherit { get; } = new(RouteRateLimitKind.Inherit, null);

    public static RouteRateLimit Off { get; } = new(RouteRateLimitKind.Off, null);
}

/// <summary>Token bucket: <paramref name="Requests"/> per <paramref name="Period"/> sustained, <paramref name="Burst"/> the bucket size.</summary>
public sealed record RateLimitPolicy(long Requests, TimeSpan Period, long Burst);

/// <summary>How the edge asks the rate-limit grains.</summary>
public enum RateLimitMode
{
    Exact,
    Fast,
}

/// <summary>What the edge does when no limiter answers in time: decide on its local share of the policy, admit, or answer 503.</summary>
public enum BackendFailureMode
{
    Local,
    Open,
    Closed,
}

/// <summary>The <c>ratelimit</c> section.</summary>
public sealed record RateLimitConfig(
    RateLimitPolicy Default,
    ImmutableDictionary<string, RateLimitPolicy> Tiers,
    RateLimitMode Mode,
    BackendFailureMode OnBackendFailure);

/// <summary>The <c>session</c> section: <paramref name="Ttl"/> idles out, <paramref name="MaxLifetime"/> ends a session from its login whatever its use.</summary>
public sealed record SessionConfig(TimeSpan Ttl, string Cookie, bool SecureCookie, LoginConfig? Login, TimeSpan MaxLifetime);

/// <summary>Where <c>POST /auth/login</c> is checked.</summary>
public sealed record LoginConfig(string Upstream, string Path);
