using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting.Http;

/// <summary>
/// Accepts or makes the request's correlation id, puts it on the request (so it is forwarded upstream),
/// on the response, and in a logging scope so that every log line written inside the request carries it.
/// </summary>
public sealed class CorrelationIdMiddleware(RequestDelegate next, ILogger<CorrelationIdMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var headers = context.Request.Headers;
        var offered = headers[CorrelationId.HeaderName];
        var id = offered.Count == 1 && CorrelationId.IsValid(offered[0]) ? offered[0]! : CorrelationId.New();
        headers[CorrelationId.HeaderName] = id;
        CorrelationId.Set(context, id);
        context.TraceIdentifier = id;
        context.Response.OnStarting(
            static state =>
            {
                var (ctx, value) = ((HttpContext, string))state;
                ctx.Response.Headers[CorrelationId.HeaderName] = value;
                return Task.CompletedTask;
            },
            (context, id));

        using (logger.BeginScope(new CorrelationScope(id)))
        {
            await next(context);
        }
    }

    /// <summary>A logging scope with one field, written as <c>correlation_id</c>.</summary>
    private sealed class CorrelationScope(string id) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 1;

        public KeyValuePair<string, object?> this[int index] =>
            index == 0 ? new("correlation_id", id) : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"correlation_id:{id}";
    }
}
