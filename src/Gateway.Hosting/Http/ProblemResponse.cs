using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Gateway.Hosting.Http;

/// <summary>
/// Writes the gateway's own errors as <c>application/problem+json</c> (RFC 9457) with <c>status</c>, <c>title</c>,
/// <c>detail</c> and <c>correlation_id</c>, whatever the client's <c>Accept</c> header says.
/// </summary>
public static class ProblemResponse
{
    public const string ContentType = "application/problem+json";

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

    public static Task WriteAsync(HttpContext context, int status, string? detail = null, string? title = null, IReadOnlyDictionary<string, object?>? extensions = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";
        using var buffer = new MemoryStream(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "about:blank");
            writer.WriteString("title", title ?? TitleFor(status));
            writer.WriteNumber("status", status);
            if (detail is not null)
            {
                writer.WriteString("detail", detail);
            }

            writer.WriteString("instance", context.Request.Path.Value);
            writer.WriteString("correlation_id", CorrelationId.Get(context) ?? context.TraceIdentifier);
            if (extensions is not null)
            {
                foreach (var (key, value) in extensions)
                {
                    writer.WritePropertyName(key);
                    JsonSerializer.Serialize(writer, value);
                }
            }

            writer.WriteEndObject();
        }

        response.ContentLength = buffer.Length;
        // Not RequestAborted: a request timeout cancels that token, and the 504 must still be written.
        return response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), CancellationToken.None).AsTask();
    }
}
