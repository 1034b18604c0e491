using Gateway.Hosting.Configuration;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// Decides whether one request of a client under a policy is admitted. Implementations ask the rate-limit grains
/// (exact mode) or spend tokens leased from them (fast mode), and never wait longer than the limiter budget.
/// </summary>
public interface IRateLimiter
{
    /// <param name="policyName">The policy's name: the <c>policy</c> label and header value, part of the bucket's identity.</param>
    /// <param name="policy">Rate, period and burst.</param>
    /// <param name="clientKey">The session's user id, the client IP, or another key (e.g. <c>login-user:alice</c>).</param>
    /// <param name="cancellationToken">The request's token.</param>
    ValueTask<RateLimitDecision> AcquireAsync(string policyName, RateLimitPolicy policy, string clientKey, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="AcquireAsync(string, RateLimitPolicy, string, CancellationToken)"/>, but the grains get
    /// <paramref name="budget"/> to answer, and when they do not the decision follows <paramref name="onBackendFailure"/>
    /// instead of <c>ratelimit.on_backend_failure</c> (login limits: closed, with a budget a cold bucket can meet).
    /// </summary>
    ValueTask<RateLimitDecision> AcquireAsync(string policyName, RateLimitPolicy policy, string clientKey, BackendFailureMode onBackendFailure, TimeSpan budget, CancellationToken cancellationToken);
}

/// <summary>One decision.</summary>
/// <param name="Allowed">Admitted (also true when the limiter was unavailable and <c>on_backend_failure: open</c>).</param>
/// <param name="Remaining">Whole tokens left after this request.</param>
/// <param name="RetryAfter">Time until a token is available (zero when one is).</param>
/// <param name="BackendUnavailable">The grains did not answer within the budget and the decision followed <c>open</c> or <c>closed</c> (a decision of the edge's local bucket under <c>local</c> is an ordinary decision: false).</param>
public readonly record struct RateLimitDecision(bool Allowed, long Remaining, TimeSpan RetryAfter, bool BackendUnavailable);
