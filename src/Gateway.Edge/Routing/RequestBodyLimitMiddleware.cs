using Gateway.Edge.Pipeline;
using Gateway.Hosting.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Edge.Routing;

/// <summary>
/// A route's <c>max_body</c> (default 10MB): a declared <c>Content-Length</c> above it is answered 413 problem+json at once,
/// without reaching the upstream; a chunked body is held to it by Kestrel's <see cref="IHttpMaxRequestBodySizeFeature"/>,
/// whose failure while streaming the body is turned into 413 as well (see <see cref="UpstreamOutcomes"/>).
/// </summary>
internal sealed class RequestBodyLimitMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var limit = context.GatewayRequest().RequireRoute().Features.MaxBody;
        if (context.Request.ContentLength > limit)
        {
            return ProblemResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, $"The request body is larger than this route accepts ({limit} bytes).");
        }

        // Read-only once the body is being read, and for upgraded requests, whose streams are not request bodies.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        return next(context);
    }
}
