using System.Collections.Immutable;
using System.Net;

namespace Gateway.Hosting.Configuration;

/// <summary>How an upstream spreads requests over its destinations (<c>load_balancing</c>).</summary>
public enum LoadBalancingMode
{
    PowerOfTwo,
    RoundRobin,
    LeastRequests,
    Random,
    First,
}

/// <summary><c>passive_health</c>: a destination failing <paramref name="Failures"/> times within <paramref name="Window"/> is ejected for <paramref name="ReactivateAfter"/>.</summary>
public sealed record PassiveHealthConfig(int Failures, TimeSpan Window, TimeSpan ReactivateAfter);

/// <summary><c>request_headers</c> / <c>response_headers</c>: headers set (replacing any value) and headers removed.</summary>
public sealed record HeaderRules(ImmutableArray<KeyValuePair<string, string>> Set, ImmutableArray<string> Remove)
{
    public static HeaderRules None { get; } = new([], []);

    public bool IsEmpty => Set.IsDefaultOrEmpty && Remove.IsDefaultOrEmpty;
}

/// <summary><c>retries</c>: up to <paramref name="Attempts"/> more tries after the first, on a connect failure and/or the listed upstream statuses.</summary>
public sealed record RetryPolicy(int Attempts, bool OnConnectFailure, ImmutableArray<int> Statuses);

/// <summary><c>cors</c>: the route's CORS policy, answered by the gateway.</summary>
public sealed record CorsConfig(
    ImmutableArray<string> Origins,
    ImmutableArray<string> Methods,
    ImmutableArray<string> Headers,
    bool Credentials,
    TimeSpan? MaxAge);

/// <summary>The route features beyond matching and policy: host match, path rewriting, headers, body size, retries, CORS, client IP lists.</summary>
public sealed record RouteFeatures
{
    /// <summary>10 MiB: the <c>max_body</c> of a route that does not set one.</summary>
    public const long DefaultMaxBody = 10L * 1024 * 1024;

    public static RouteFeatures Default { get; } = new();

    public ImmutableArray<string> Hosts { get; init; } = [];

    public string? StripPrefix { get; init; }

    public string? Rewrite { get; init; }

    public HeaderRules RequestHeaders { get; init; } = HeaderRules.None;

    public HeaderRules ResponseHeaders { get; init; } = HeaderRules.None;

    public long MaxBody { get; init; } = DefaultMaxBody;

    public RetryPolicy? Retries { get; init; }

    public CorsConfig? Cors { get; init; }

    public ImmutableArray<IPNetwork> Allow { get; init; } = [];

    public ImmutableArray<IPNetwork> Deny { get; init; } = [];

    /// <summary>True when the path sent upstream differs from the one received.</summary>
    public bool RewritesPath => StripPrefix is not null || Rewrite is not null;
}
