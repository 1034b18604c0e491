using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Hosting.Health;

/// <summary>Writes a health report as JSON naming each check: <c>{"status":"Healthy","checks":{"config":{...}}}</c>.</summary>
public static class HealthResponseWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("status", report.Status.ToString());
            writer.WriteNumber("duration_ms", Math.Round(report.TotalDuration.TotalMilliseconds, 1));
            writer.WriteStartObject("checks");
            foreach (var (name, entry) in report.Entries)
            {
                writer.WriteStartObject(name);
                writer.WriteString("status", entry.Status.ToString());
                if (entry.Description is not null)
                {
                    writer.WriteString("description", entry.Description);
                }

                writer.WriteNumber("duration_ms", Math.Round(entry.Duration.TotalMilliseconds, 1));
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return context.Response.Body.WriteAsync(buffer.ToArray(), context.RequestAborted).AsTask();
    }
}
