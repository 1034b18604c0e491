using System.Globalization;
using Gateway.Hosting.Configuration;

namespace Gateway.Edge.RateLimiting;

/// <summary>The draft-ietf-httpapi-ratelimit-headers fields of the contract.</summary>
internal static class RateLimitHeaders
{
    public const string Policy = "RateLimit-Policy";
    public const string State = "RateLimit";

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
