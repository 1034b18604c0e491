using Gateway.Edge.Pipeline;
using Gateway.Edge.RateLimiting;
using Gateway.Hosting.Http;
using Gateway.Hosting.Observability;
using Microsoft.AspNetCore.Http.Timeouts;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gateway.Edge.Routing;

/// <summary>
/// After a proxied request's upstream call (called by the telemetry step once the proxy pipeline returned): times the
/// upstream, and turns forwarding failures into the contract's problem+json answers (502 unreachable, 503 no healthy
/// destination, 504 timeout), counting each in <c>gateway_upstream_errors_total{upstream,kind}</c>.
/// </summary>
internal sealed class UpstreamOutcomes(GatewayMetrics metrics, TimeProvider time)
{
    public Task CompleteAsync(HttpContext context)
    {
        if (context.Features.Get<GatewayRequestFeature>() is not { UpstreamStarted: > 0 } request
            || context.Features.Get<IReverseProxyFeature>() is not { } proxy)
        {
            return Task.CompletedTask; // not a request that reached the forwarder
        }

        var upstream = proxy.Cluster.Config.ClusterId;
        var error = context.GetForwarderErrorFeature();
        if (error is null || error.Error == ForwarderError.None)
        {
            if (proxy.ProxiedDestination is not null)
            {
                metrics.UpstreamResponded(upstream, time.GetElapsedTime(request.UpstreamStarted).TotalSeconds);
            }

            return Task.CompletedTask;
        }

        if (error.Error == ForwarderError.RequestBodyClient && !context.Response.HasStarted
            && (error.Exception as BadHttpRequestException ?? error.Exception?.InnerException as BadHttpRequestException) is { StatusCode: StatusCodes.Status413PayloadTooLarge })
        {
            context.Response.Clear();
            return ProblemResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "The request body is larger than this route accepts."); // max_body while streaming a chunked body: the client's fault, not the upstream's
        }

        var timedOut = context.Features.Get<IHttpRequestTimeoutFeature>()?.RequestTimeoutToken.IsCancellationRequested == true;
        var (status, kind) = Classify(error.Error, timedOut);
        if (kind is null)
        {
            return Task.CompletedTask; // the client went away or sent a bad body: not the upstream's fault
        }

        metrics.UpstreamError(upstream, kind);
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask; // YARP has already aborted the response; nothing more can be said
        }

        // Whatever the upstream started to send is dropped; the rate-limit headers stay (the correlation id is set on start).
        var headers = context.Response.Headers;
        var policy = headers[RateLimitHeaders.Policy];
        var state = headers[RateLimitHeaders.State];
        headers.Clear();
        headers[RateLimitHeaders.Policy] = policy;
        headers[RateLimitHeaders.State] = state;
        return UpstreamProblem.WriteAsync(context, status, upstream, kind);
    }

    /// <summary>Maps a forwarder error to the answer and the <c>kind</c> label; a null kind is no upstream error.</summary>
    internal static (int Status, string? Kind) Classify(ForwarderError error, bool requestTimedOut) => error switch
    {
        ForwarderError.RequestTimedOut => (StatusCodes.Status504GatewayTimeout, "timeout"),
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled when requestTimedOut => (StatusCodes.Status504GatewayTimeout, "timeout"),
        ForwarderError.NoAvailableDestinations => (StatusCodes.Status503ServiceUnavailable, "no_destination"),
        ForwarderError.Request or ForwarderError.RequestCreation => (StatusCodes.Status502BadGateway, "unreachable"),
        ForwarderError.RequestBodyDestination or ForwarderError.ResponseHeaders => (StatusCodes.Status502BadGateway, "bad_response"),
        ForwarderError.ResponseBodyDestination or ForwarderError.UpgradeRequestDestination or ForwarderError.UpgradeResponseDestination => (StatusCodes.Status502BadGateway, "bad_response"),
        ForwarderError.UpgradeActivityTimeout => (StatusCodes.Status504GatewayTimeout, "timeout"),
        _ => (StatusCodes.Status400BadRequest, null),
    };
}

/// <summary>The problem answer for a failed upstream, the same for proxied requests and for the login's identity upstream.</summary>
internal static class UpstreamProblem
{
    public static Task WriteAsync(HttpContext context, int status, string upstream, string kind) =>
        ProblemResponse.WriteAsync(context, status, kind switch
        {
            "timeout" => $"Upstream '{upstream}' did not answer in time.",
            "no_destination" => $"Upstream '{upstream}' has no healthy destination.",
            _ => $"Upstream '{upstream}' could not be reached.",
        });
}
