using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting.Http;

/// <summary>
/// The one way the gateway answers with an error of its own: <c>application/problem+json</c> (RFC 9457) with
/// <c>type</c>, <c>title</c>, <c>status</c>, <c>detail</c>, <c>instance</c> and <c>correlation_id</c>, written by
/// ASP.NET Core's <see cref="IProblemDetailsService"/>. <see cref="Customize"/> adds what every problem carries, so
/// the status-code pages, the exception handler and the gateway's own refusals have one shape; the edge and the silo
/// register it with <see cref="AddGatewayProblemDetails"/>.
/// </summary>
public static class ProblemResponse
{
    public const string ContentType = "application/problem+json";

    /// <summary>The extension member naming the request's <see cref="CorrelationId"/>.</summary>
    public const string CorrelationIdMember = "correlation_id";

    public static string TitleFor(int status) => status switch
    {
        400 => "Bad request",
        401 => "Authentication required",
        403 => "Forbidden",
        404 => "No route matches the request",
        405 => "Method not allowed",
        408 => "Request timeout",
        413 => "Request body too large",
        429 => "Too many requests",
        431 => "Request headers too large",
        502 => "Upstream unreachable",
        503 => "Service unavailable",
        504 => "Upstream timed out",
        _ => status >= 500 ? "Gateway error" : "Request failed",
    };

    /// <summary>Registers ASP.NET Core's problem details service with the gateway's customization.</summary>
    public static IServiceCollection AddGatewayProblemDetails(this IServiceCollection services) =>
        services.AddProblemDetails(options => options.CustomizeProblemDetails = Customize);

    /// <summary>The same problem as <see cref="WriteAsync"/>, as an endpoint's result.</summary>
    public static IResult Result(int status, string? detail = null) => new ProblemResult(status, detail);

    /// <summary>Writes a problem for <paramref name="status"/>, whatever the client's <c>Accept</c> header says.</summary>
    /// <param name="context">The request being answered.</param>
    /// <param name="status">The response status.</param>
    /// <param name="detail">What went wrong with this request, for people.</param>
    /// <param name="title">The summary of the status; <see cref="TitleFor"/> when null.</param>
    /// <param name="extensions">More members (for example the <c>reason</c> of a 401).</param>
    public static async Task WriteAsync(HttpContext context, int status, string? detail = null, string? title = null, IReadOnlyDictionary<string, object?>? extensions = null)
    {
        context.Response.StatusCode = status;
        var problem = new ProblemDetails
        {
            Type = "about:blank",
            Title = title ?? TitleFor(status),
            Status = status,
            Detail = detail,
        };
        if (extensions is not null)
        {
            foreach (var (key, value) in extensions)
            {
                problem.Extensions[key] = value;
            }
        }

        // A request timeout has cancelled RequestAborted by the time the 504 is written, and ASP.NET Core's JSON writer
        // stops silently on a cancelled RequestAborted: the timeout is over, so let the answer through.
        if (context.RequestAborted.IsCancellationRequested && context.Features.Get<Microsoft.AspNetCore.Http.Timeouts.IHttpRequestTimeoutFeature>() is { RequestTimeoutToken.IsCancellationRequested: true })
        {
            context.RequestAborted = CancellationToken.None;
        }

        var problemContext = new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem };
        if (!await context.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(problemContext))
        {
            // The client's Accept leaves out JSON; the gateway's errors are problem+json all the same.
            Customize(problemContext);
            var json = context.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
            await context.Response.WriteAsJsonAsync(problem, json, ContentType);
        }
    }

    /// <summary>What every problem the gateway writes carries: <c>instance</c>, <c>correlation_id</c>, and no caching.</summary>
    public static void Customize(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        problem.Instance ??= http.Request.Path.Value;

        // The correlation id is the gateway's one request id in answers and logs; ASP.NET Core's traceId would be a second.
        problem.Extensions.Remove("traceId");
        problem.Extensions[CorrelationIdMember] = CorrelationId.Get(http) ?? http.TraceIdentifier;
        http.Response.Headers.CacheControl = "no-store";
    }

    private sealed class ProblemResult(int status, string? detail) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext, status, detail);
    }
}
