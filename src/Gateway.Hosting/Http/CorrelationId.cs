using System.Diagnostics.CodeAnalysis;

namespace Gateway.Hosting.Http;

/// <summary>
/// The request's correlation id: the client's <c>X-Correlation-ID</c> when it is 1–128 characters of
/// <c>[A-Za-z0-9._-]</c>, else a new one.
/// </summary>
public static class CorrelationId
{
    public const string HeaderName = "X-Correlation-ID";

    private const string ItemKey = "gateway.correlation_id";

    public static bool IsValid([NotNullWhen(true)] string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 128)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A new id: 32 lower-case hex digits.</summary>
    public static string New() => Guid.NewGuid().ToString("N");

    public static string? Get(Microsoft.AspNetCore.Http.HttpContext context) => context.Items[ItemKey] as string;

    public static void Set(Microsoft.AspNetCore.Http.HttpContext context, string id) => context.Items[ItemKey] = id;
}
