using System.Collections.Concurrent;
using Gateway.Edge.RateLimiting;
using Gateway.Hosting.Configuration;

namespace Gateway.Edge.Tests.Sessions;

/// <summary>An in-test limiter: records every key it is asked about and refuses the keys it is told to.</summary>
internal sealed class RecordingRateLimiter : IRateLimiter
{
    public ConcurrentQueue<(string Policy, string Key)> Calls { get; } = new();

    public ConcurrentDictionary<string, bool> Refused { get; } = new(StringComparer.Ordinal);

    /// <summary>Keys whose limiter does not answer: the decision follows the forced mode (or admits, as <c>open</c>).</summary>
    public ConcurrentDictionary<string, bool> Unavailable { get; } = new(StringComparer.Ordinal);

    /// <summary>The forced backend-failure mode of each call that passed one, by key.</summary>
    public ConcurrentDictionary<string, BackendFailureMode> ForcedModes { get; } = new(StringComparer.Ordinal);

    /// <summary>Forgets every call and setting, for the next test on the same edge.</summary>
    public void Reset()
    {
        Calls.Clear();
        Refused.Clear();
        Unavailable.Clear();
        ForcedModes.Clear();
    }

    public ValueTask<RateLimitDecision> AcquireAsync(string policyName, RateLimitPolicy policy, string clientKey, BackendFailureMode onBackendFailure, TimeSpan budget, CancellationToken cancellationToken)
    {
        ForcedModes[clientKey] = onBackendFailure;
        if (Unavailable.ContainsKey(clientKey))
        {
            Calls.Enqueue((policyName, clientKey));
            return ValueTask.FromResult(new RateLimitDecision(onBackendFailure == BackendFailureMode.Open, 0, TimeSpan.Zero, true));
        }

        return AcquireAsync(policyName, policy, clientKey, cancellationToken);
    }

    public ValueTask<RateLimitDecision> AcquireAsync(string policyName, RateLimitPolicy policy, string clientKey, CancellationToken cancellationToken)
    {
        Calls.Enqueue((policyName, clientKey));
        if (Unavailable.ContainsKey(clientKey))
        {
            return ValueTask.FromResult(new RateLimitDecision(true, 0, TimeSpan.Zero, true));
        }

        return ValueTask.FromResult(Refused.ContainsKey(clientKey)
            ? new RateLimitDecision(false, 0, TimeSpan.FromSeconds(2.5), false)
            : new RateLimitDecision(true, 1, TimeSpan.Zero, false));
    }
}
