using System.Collections.Immutable;
using YamlDotNet.RepresentationModel;

namespace Gateway.Hosting.Configuration;

/// <summary>The <c>ratelimit</c> section and the policies routes and tiers share.</summary>
public static partial class GatewayConfigParser
{
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
        var onFailure = reader.Enum<BackendFailureMode>(YamlNodeReader.Child(mapping, "on_backend_failure"), "ratelimit.on_backend_failure") ?? BackendFailureMode.Local;
        return new RateLimitConfig(defaultPolicy, tiers.ToImmutable(), mode, onFailure);
    }
}
