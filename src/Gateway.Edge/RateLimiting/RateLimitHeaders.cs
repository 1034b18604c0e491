using System.Globalization;
using Gateway.Hosting.Configuration;

namespace Gateway.Edge.RateLimiting;

/// <summary>The draft-ietf-httpapi-ratelimit-headers fields of the contract.</summary>
internal static class RateLimitHeaders
{
    public const string Policy = "RateLimit-Policy";
    public const string State = "RateLimit";

    /// <summary>The last policy header this thread wrote, and its policy: a thread sees the same few policies again and again.</summary>
    [ThreadStatic]
    private static (string Name, RateLimitPolicy Policy, string Header)? _lastPolicy;

    /// <summary><see cref="FormatPolicy"/>, without a new string when the policy is the one this thread formatted last.</summary>
    public static string PolicyHeader(string name, RateLimitPolicy policy)
    {
        if (_lastPolicy is { } last && ReferenceEquals(last.Policy, policy) && string.Equals(last.Name, name, StringComparison.Ordinal))
        {
            return last.Header;
        }

        var header = FormatPolicy(name, policy);
        _lastPolicy = (name, policy, header);
        return header;
    }

    /// <summary><c>"&lt;policy&gt;";q=&lt;requests&gt;;w=&lt;period seconds&gt;</c>.</summary>
    public static string FormatPolicy(string name, RateLimitPolicy policy) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{name}\";q={policy.Requests};w={Seconds(policy.Period)}");

    /// <summary><c>"&lt;policy&gt;";r=&lt;remaining&gt;;t=&lt;seconds until a token is available&gt;</c>.</summary>
    public static string FormatState(string name, long remaining, TimeSpan untilToken) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{name}\";r={Math.Max(0, remaining)};t={CeilingSeconds(untilToken)}");

    /// <summary>Whole seconds, rounded up (a <c>Retry-After</c> of a denial is at least 1).</summary>
    public static long CeilingSeconds(TimeSpan value) =>
        value <= TimeSpan.Zero ? 0 : (value.Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;

    private static string Seconds(TimeSpan period) =>
        period.Ticks % TimeSpan.TicksPerSecond == 0
            ? (period.Ticks / TimeSpan.TicksPerSecond).ToString(CultureInfo.InvariantCulture)
            : period.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
}
