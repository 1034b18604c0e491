using System.Net.Sockets;
using Gateway.Edge.Pipeline;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Observability;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Edge.Routing;

/// <summary>
/// YARP does not retry; this step of its proxy pipeline (before load balancing) does, for a route with <c>retries</c>, when
/// it is safe: only GET, HEAD, OPTIONS, PUT and DELETE requests without a body (a body is streamed to the first destination
/// and cannot be sent again), never an upgrade, never once a response byte went to the client, and never past the route's
/// timeout (the request's own cancellation). A retry goes to another available destination when there is one; each is
/// counted in <c>gateway_upstream_retries_total{upstream}</c>. A listed status is caught by a response transform
/// (<see cref="OnResponse"/>) that drops the upstream's body before anything is sent.
/// </summary>
internal sealed class RetryMiddleware(RequestDelegate next, GatewayMetrics metrics)
{
    public Task InvokeAsync(HttpContext context)
    {
        var policy = context.GatewayRequest().Route?.Features.Retries;
        return policy is null || !CanRetry(context) ? next(context) : RetryAsync(context, policy);
    }

    private async Task RetryAsync(HttpContext context, RetryPolicy policy)
    {

        var proxy = context.GetReverseProxyFeature();
        var all = proxy.AvailableDestinations;
        var headers = context.Response.Headers.ToArray();
        var state = new RetryState(policy.Statuses, policy.Attempts);
        context.Features.Set(state);
        List<DestinationState>? tried = null;
        while (true)
        {
            state.Requested = false;
            await next(context);
            var retry = state.Remaining > 0 && !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested
                && (state.Requested || policy.OnConnectFailure && IsConnectFailure(context));
            if (!retry)
            {
                return;
            }

            state.Remaining--;
            metrics.UpstreamRetried(proxy.Cluster.Config.ClusterId);
            if (proxy.ProxiedDestination is { } failed)
            {
                (tried ??= []).Add(failed);
            }

            var others = tried is null ? all : all.Where(d => !tried.Contains(d)).ToList();
            proxy.AvailableDestinations = others.Count > 0 ? others : all;
            proxy.ProxiedDestination = null;
            context.Features.Set<IForwarderErrorFeature>(null);
            context.Response.Clear();
            foreach (var (name, value) in headers)
            {
                context.Response.Headers[name] = value;
            }
        }
    }

    /// <summary>Response transform: a listed status with retries left drops the upstream's body and asks for a retry.</summary>
    public static ValueTask OnResponse(ResponseTransformContext context)
    {
        if (context.ProxyResponse is { } response && context.HttpContext.Features.Get<RetryState>() is { Remaining: > 0 } state
            && state.Statuses.Contains((int)response.StatusCode))
        {
            context.SuppressResponseBody = true;
            state.Requested = true;
        }

        return ValueTask.CompletedTask;
    }

    private static bool CanRetry(HttpContext context)
    {
        var method = context.Request.Method;
        return (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsPut(method) || HttpMethods.IsDelete(method))
            && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true
            && context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest != true;
    }

    private static bool IsConnectFailure(HttpContext context) =>
        context.GetForwarderErrorFeature() is { Error: ForwarderError.Request, Exception: { } exception }
        && (exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } || exception.InnerException is SocketException);

    /// <summary>The retry state of one request, read by the response transform.</summary>
    internal sealed class RetryState(System.Collections.Immutable.ImmutableArray<int> statuses, int attempts)
    {
        public System.Collections.Immutable.ImmutableArray<int> Statuses { get; } = statuses;

        public int Remaining { get; set; } = attempts;

        public bool Requested { get; set; }
    }
}
