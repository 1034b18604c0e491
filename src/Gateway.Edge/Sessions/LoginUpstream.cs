using System.Collections.Immutable;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Grains.Contracts;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Http;
using Gateway.Hosting.Observability;

namespace Gateway.Edge.Sessions;

/// <summary>How the identity upstream answered a login.</summary>
internal enum LoginOutcome
{
    Accepted,
    Rejected,
    Unreachable,
    TimedOut,
}

internal sealed record LoginResult(LoginOutcome Outcome, SessionIdentity? Identity = null);

/// <summary>
/// Forwards a login body to <c>session.login</c>'s upstream path, within that upstream's timeout. A 200 with
/// <c>{"user_id", "tier", "roles"}</c> accepts; any other answer rejects.
/// </summary>
internal sealed partial class LoginUpstream(HttpClient http, GatewayMetrics metrics, TimeProvider time, ILogger<LoginUpstream> logger)
{
    /// <summary>The largest identity answer read.</summary>
    public const int MaxAnswerBytes = 64 * 1024;

    public async Task<LoginResult> VerifyAsync(UpstreamConfig upstream, string path, ReadOnlyMemory<byte> body, string? contentType, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        var destination = upstream.Destinations[upstream.Destinations.Length == 1 ? 0 : Random.Shared.Next(upstream.Destinations.Length)];
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(destination.ToString().TrimEnd('/') + path))
        {
            Content = new ReadOnlyMemoryContent(body),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.TryParse(contentType, out var type) ? type : new MediaTypeHeaderValue("application/json");
        if (CorrelationId.Get(context) is { } correlation)
        {
            request.Headers.TryAddWithoutValidation(CorrelationId.HeaderName, correlation);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(upstream.Timeout);
        try
        {
            var started = time.GetTimestamp();
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            metrics.UpstreamResponded(upstream.Name, time.GetElapsedTime(started).TotalSeconds); // as the proxy times its upstreams
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return new LoginResult(LoginOutcome.Rejected);
            }

            if (response.Content.Headers.ContentLength > MaxAnswerBytes)
            {
                LogBadAnswer(logger, upstream.Name);
                return new LoginResult(LoginOutcome.Rejected);
            }

            var answer = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            var identity = answer.Length <= MaxAnswerBytes ? ParseIdentity(answer) : null;
            if (identity is null)
            {
                LogBadAnswer(logger, upstream.Name);
                return new LoginResult(LoginOutcome.Rejected);
            }

            return new LoginResult(LoginOutcome.Accepted, identity);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            return new LoginResult(LoginOutcome.TimedOut);
        }
        catch (HttpRequestException ex)
        {
            LogUnreachable(logger, upstream.Name, ex.HttpRequestError);
            return new LoginResult(LoginOutcome.Unreachable);
        }
    }

    /// <summary>Reads <c>{"user_id": "...", "tier": "...", "roles": [...]}</c>; null unless <c>user_id</c> is a non-empty string.</summary>
    internal static SessionIdentity? ParseIdentity(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("user_id", out var userId) || userId.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(userId.GetString()))
            {
                return null;
            }

            string? tier = root.TryGetProperty("tier", out var tierElement) && tierElement.ValueKind == JsonValueKind.String ? tierElement.GetString() : null;
            var roles = ImmutableArray.CreateBuilder<string>();
            if (root.TryGetProperty("roles", out var rolesElement) && rolesElement.ValueKind == JsonValueKind.Array)
            {
                foreach (var role in rolesElement.EnumerateArray())
                {
                    if (role.ValueKind == JsonValueKind.String && role.GetString() is { Length: > 0 } name)
                    {
                        roles.Add(name);
                    }
                }
            }

            return new SessionIdentity(userId.GetString()!, string.IsNullOrEmpty(tier) ? null : tier, roles.ToImmutable());
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(EventId = LogEvents.LoginUpstreamBadAnswer, Level = LogLevel.Warning, Message = "Login upstream {Upstream} answered 200 without a usable identity (user_id, tier, roles); the login is refused")]
    private static partial void LogBadAnswer(ILogger logger, string upstream);

    [LoggerMessage(EventId = LogEvents.LoginUpstreamUnreachable, Level = LogLevel.Warning, Message = "Login upstream {Upstream} could not be reached ({Error})")]
    private static partial void LogUnreachable(ILogger logger, string upstream, HttpRequestError error);
}
