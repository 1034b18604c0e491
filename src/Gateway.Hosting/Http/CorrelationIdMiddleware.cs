using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting.Http;

/// <summary>
/// Accepts or makes the request's correlation id, puts it on the request (so it is forwarded upstream),
/// on the response, and in a logging scope so that every log line written inside the request carries it.
/// One <see cref="CorrelationScope"/> per request is the feature, the scope and the response callback's state.
/// </summary>
public sealed class CorrelationIdMiddleware(RequestDelegate next, ILogger<CorrelationIdMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var headers = context.Request.Headers;
        var offered = headers[CorrelationId.HeaderName];
        var id = offered.Count == 1 && CorrelationId.IsValid(offered[0]) ? offered[0]! : CorrelationId.New();
        if (offered.Count != 1 || !ReferenceEquals(id, offered[0]))
        {
            headers[CorrelationId.HeaderName] = id;
        }

        var scope = new CorrelationScope(id);
        context.Features.Set(scope);
        context.TraceIdentifier = id;
        context.Response.OnStarting(
            static state =>
            {
                var context = (HttpContext)state;
                context.Response.Headers[CorrelationId.HeaderName] = context.Features.Get<CorrelationScope>()!.Id;
                return Task.CompletedTask;
            },
            context);

        using (logger.BeginScope(scope))
        {
            await next(context);
        }
    }
}
