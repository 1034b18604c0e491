using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Edge.Routing;

/// <summary>
/// A route's own transforms, with YARP's transforms: <c>strip_prefix</c> (PathRemovePrefix), <c>rewrite</c> (PathPattern),
/// then <see cref="UpstreamPath"/> for the address sent upstream; <c>request_headers</c> and <c>response_headers</c>
/// (RequestHeader / ResponseHeader set and remove); and the hook that lets <see cref="RetryMiddleware"/> retry on a status.
/// Registered after the identity transforms, so that a route's header rules apply after identity stripping and injection.
/// </summary>
internal sealed class RouteTransforms : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Route is null || !GatewayProxyConfigProvider.TryGetPolicy(context.Route, out var policy))
        {
            return;
        }

        var features = policy.Route.Features;
        if (features.StripPrefix is { } prefix)
        {
            context.AddPathRemovePrefix(prefix);
        }
        else if (features.Rewrite is { } rewrite)
        {
            context.AddPathRouteValues(rewrite);
        }

        if (features.RewritesPath)
        {
            context.AddRequestTransform(UpstreamPath.ApplyAsync);
        }

        foreach (var name in features.RequestHeaders.Remove)
        {
            context.AddRequestHeaderRemove(name);
        }

        foreach (var (name, value) in features.RequestHeaders.Set)
        {
            context.AddRequestHeader(name, value, append: false);
        }

        foreach (var name in features.ResponseHeaders.Remove)
        {
            context.AddResponseHeaderRemove(name, ResponseCondition.Always);
        }

        foreach (var (name, value) in features.ResponseHeaders.Set)
        {
            context.AddResponseHeader(name, value, append: false, ResponseCondition.Always);
        }

        if (features.Retries is { Statuses.IsDefaultOrEmpty: false })
        {
            context.AddResponseTransform(RetryMiddleware.OnResponse);
        }
    }
}
