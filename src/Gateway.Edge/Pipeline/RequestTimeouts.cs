using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.ObjectPool;

namespace Gateway.Edge.Pipeline;

/// <summary>
/// The upstream's <c>timeout</c> over the whole proxied request, as ASP.NET Core's request timeouts apply it (the route's
/// <see cref="RequestTimeoutAttribute"/>, which YARP adds for <c>RouteConfig.Timeout</c>; <c>RequestAborted</c> is cancelled
/// when it runs out, and the <see cref="IHttpRequestTimeoutFeature"/> says so), without their per-request allocations:
/// the token sources come from a pool (reset with <c>TryReset</c>), their timers from the <see cref="TimeProvider"/>, and
/// no async step is added (<see cref="End"/> runs in the telemetry step's own).
/// </summary>
internal sealed class RequestTimeouts(TimeProvider time)
{
    /// <summary>Where ASP.NET Core's <c>UseRequestTimeouts()</c> would go: after routing, before the endpoints.</summary>
    public static IApplicationBuilder Use(IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var timeouts = app.ApplicationServices.GetRequiredService<RequestTimeouts>();
        return app.Use(next => context =>
        {
            timeouts.Start(context);
            return next(context);
        });
    }

    /// <summary>A source is pooled again only when its deadline was at least this far: a timer firing at that moment cannot cancel the next request.</summary>
    private static readonly TimeSpan ReuseMargin = TimeSpan.FromSeconds(1);

    private readonly DefaultObjectPool<RequestTimeout> _pool = new(new Policy(time), maximumRetained: 1024);

    /// <summary>Starts the endpoint's timeout, if it has one (the step after routing).</summary>
    public void Start(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        if (metadata?.GetMetadata<RequestTimeoutAttribute>() is not { Timeout: { } timeout }
            || timeout == Timeout.InfiniteTimeSpan || metadata.GetMetadata<DisableRequestTimeoutAttribute>() is not null
            || context.RequestAborted.IsCancellationRequested || context.Features.Get<IHttpRequestTimeoutFeature>() is not null)
        {
            return;
        }

        var feature = _pool.Get();
        feature.Start(context, timeout, time.GetTimestamp());
        context.Features.Set<IHttpRequestTimeoutFeature>(feature);
    }

    /// <summary>True when the request's timeout ran out (and not because the client went away).</summary>
    public static bool TimedOut(HttpContext context) =>
        context.Features.Get<IHttpRequestTimeoutFeature>() is RequestTimeout { TimedOut: true };

    /// <summary>Ends the request's timeout and gives <c>RequestAborted</c> back (the telemetry step's <c>finally</c>).</summary>
    public void End(HttpContext context)
    {
        if (context.Features.Get<IHttpRequestTimeoutFeature>() is not RequestTimeout feature)
        {
            return;
        }

        context.Features.Set<IHttpRequestTimeoutFeature>(null);
        if (feature.End(context, time) > ReuseMargin)
        {
            _pool.Return(feature);
        }
        else
        {
            feature.Dispose();
        }
    }

    private sealed class Policy(TimeProvider time) : PooledObjectPolicy<RequestTimeout>
    {
        public override RequestTimeout Create() => new(time);

        public override bool Return(RequestTimeout obj) => true;
    }

    /// <summary>One request's timeout: its token source, linked to the client's <c>RequestAborted</c> while in use.</summary>
    private sealed class RequestTimeout(TimeProvider time) : IHttpRequestTimeoutFeature, IDisposable
    {
        private CancellationTokenSource _source = new(Timeout.InfiniteTimeSpan, time);
        private CancellationToken _original;
        private CancellationTokenRegistration _link;
        private long _deadline;

        public CancellationToken RequestTimeoutToken => _source.Token;

        public bool TimedOut => _source.IsCancellationRequested && !_original.IsCancellationRequested;

        public void DisableTimeout() => _source.CancelAfter(Timeout.InfiniteTimeSpan);

        public void Start(HttpContext context, TimeSpan timeout, long now)
        {
            _original = context.RequestAborted;
            _deadline = now + (long)(timeout.TotalSeconds * time.TimestampFrequency);
            _link = _original.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _source);
            _source.CancelAfter(timeout);
            context.RequestAborted = _source.Token;
        }

        /// <summary>Unlinks and resets the source (a new one when it was cancelled); the time that was left until the deadline.</summary>
        public TimeSpan End(HttpContext context, TimeProvider clock)
        {
            context.RequestAborted = _original;
            _link.Unregister();
            _link = default;
            _original = default;
            var left = _deadline > clock.GetTimestamp() ? clock.GetElapsedTime(clock.GetTimestamp(), _deadline) : TimeSpan.Zero;
            if (!_source.TryReset())
            {
                _source.Dispose();
                _source = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
            }

            return left;
        }

        public void Dispose() => _source.Dispose();
    }
}
