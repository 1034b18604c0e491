using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Hosting.Http;

/// <summary>
/// Guards operator endpoints with <c>ADMIN_TOKEN</c>: <c>Authorization: Bearer &lt;token&gt;</c>, or Basic with the token as
/// the password (for browsers). Without a configured token the endpoints answer 404, as if they did not exist. A client
/// address with too many failed attempts is refused with 429 until its window passes (<see cref="AdminAttemptLimiter"/>).
/// </summary>
public sealed class AdminTokenFilter(string? token) : IEndpointFilter
{
    private readonly byte[]? _token = string.IsNullOrEmpty(token) ? null : Encoding.UTF8.GetBytes(token);

    /// <summary>
    /// A refusal is returned as a result, never written here: a filter that writes and returns <c>null</c> lets a
    /// <c>Task</c>-returning endpoint write its JSON <c>null</c> after the problem.
    /// </summary>
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (_token is null)
        {
            return ProblemResponse.Result(StatusCodes.Status404NotFound);
        }

        var authorized = IsAuthorized(http.Request.Headers.Authorization.ToString());
        if (http.RequestServices.GetRequiredService<AdminAttemptLimiter>().Attempt(http, authorized) is { } wait)
        {
            http.Response.Headers.RetryAfter = ((long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return ProblemResponse.Result(StatusCodes.Status429TooManyRequests, "Too many failed admin attempts from this address; retry later.");
        }

        if (!authorized)
        {
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"api-gateway admin\", Bearer";
            return ProblemResponse.Result(StatusCodes.Status401Unauthorized, "This endpoint needs the ADMIN_TOKEN.");
        }

        return await next(context);
    }

    internal bool IsAuthorized(string header)
    {
        if (_token is null || !AuthenticationHeaderValue.TryParse(header, out var value) || value.Parameter is null)
        {
            return false;
        }

        byte[] offered;
        if (value.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            offered = Encoding.UTF8.GetBytes(value.Parameter);
        }
        else if (value.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value.Parameter));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                offered = Encoding.UTF8.GetBytes(colon < 0 ? decoded : decoded[(colon + 1)..]);
            }
            catch (FormatException)
            {
                return false;
            }
        }
        else
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(offered, _token);
    }
}
