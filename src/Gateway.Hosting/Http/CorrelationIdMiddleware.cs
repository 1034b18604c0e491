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
    public Task InvokeAsync(HttpContext context)
    {
        var scope = Accept(context);

        // The scope only carries the id into log lines: with logging off, no scope (and no async step around the request).
        return logger.IsEnabled(LogLevel.Critical) ? InScopeAsync(context, scope) : next(context);
    }

    /// <summary>
    /// Settles the request's id (the client's valid one, else a new one) on the request, as its feature and trace
    /// identifier, and on the response when it starts; the returned scope is for the caller's logging scope.
    /// </summary>
    public static CorrelationScope Accept(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
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
        return scope;
    }

    private async Task InScopeAsync(HttpContext context, CorrelationScope scope)
    {
        using (logger.BeginScope(scope))
        {
            await next(context);
        }
    }
}
