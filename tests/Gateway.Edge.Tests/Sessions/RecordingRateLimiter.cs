using System.Collections.Concurrent;
using Gateway.Edge.RateLimiting;
using Gateway.Hosting.Configuration;

namespace Gateway.Edge.Tests.Sessions;

/// <summary>An in-test limiter: records every key it is asked about and refuses the keys it is told to.</summary>
internal sealed class RecordingRateLimiter : IRateLimiter
{
    public ConcurrentQueue<(string Policy, string Key)> Calls { get; } = new();

    public ConcurrentDictionary<string, bool> Refused { get; } = new(StringComparer.Ordinal);

    public ValueTask<RateLimitDecision> AcquireAsync(string policyName, RateLimitPolicy policy, string clientKey, CancellationToken cancellationToken)
    {
        Calls.Enqueue((policyName, clientKey));
        return ValueTask.FromResult(Refused.ContainsKey(clientKey)
            ? new RateLimitDecision(false, 0, TimeSpan.FromSeconds(2.5), false)
            : new RateLimitDecision(true, 1, TimeSpan.Zero, false));
    }
}
