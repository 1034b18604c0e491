using System.Globalization;
using System.Text.Json;
using Gateway.Edge.RateLimiting;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Http;
using Gateway.Hosting.Observability;

namespace Gateway.Edge.Sessions;

/// <summary>
/// Brute-force limits of <c>POST /auth/login</c>, through the cluster-wide rate limiter: per client IP
/// (<c>login-ip:&lt;ip&gt;</c>) and per user name (<c>login-user:&lt;name&gt;</c>), so that neither one address trying
/// many names nor many addresses trying one name get far.
/// </summary>
internal static class LoginRateLimits
{
    public const string RouteLabel = "auth_login";
    public const string IpPolicyName = "login-ip";
    public const string UserPolicyName = "login-user";

    /// <summary>30 attempts a minute per address, at most 10 at once.</summary>
    public static readonly RateLimitPolicy PerIp = new(30, TimeSpan.FromMinutes(1), 10);

    /// <summary>10 attempts a minute per user name, at most 5 at once.</summary>
    public static readonly RateLimitPolicy PerUser = new(10, TimeSpan.FromMinutes(1), 5);

    /// <summary>The longest user name used as a key; longer ones are cut (they are counted, not stored).</summary>
    public const int MaxUserNameLength = 128;

    /// <summary>Admits the attempt or writes the 429 and returns false. Without a registered limiter, admits.</summary>
    public static async ValueTask<bool> AdmitAsync(HttpContext context, ReadOnlyMemory<byte> body)
    {
        if (context.RequestServices.GetService<IRateLimiter>() is not { } limiter)
        {
            return true;
        }

        var ip = Observability.RequestContext.ClientAddress(context);
        if (!await AcquireAsync(context, limiter, IpPolicyName, PerIp, $"{IpPolicyName}:{ip}"))
        {
            return false;
        }

        return UserName(body) is not { } user || await AcquireAsync(context, limiter, UserPolicyName, PerUser, $"{UserPolicyName}:{user}");
    }

    /// <summary>The login body's <c>username</c>, trimmed and lower-cased, or null.</summary>
    internal static string? UserName(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("username", out var name)
                && name.ValueKind == JsonValueKind.String
                && name.GetString()?.Trim() is { Length: > 0 } user)
            {
                user = user.ToLowerInvariant();
                return user.Length > MaxUserNameLength ? user[..MaxUserNameLength] : user;
            }
        }
        catch (JsonException)
        {
            // Not JSON: limited per address only; the identity upstream refuses it.
        }

        return null;
    }

    private static async ValueTask<bool> AcquireAsync(HttpContext context, IRateLimiter limiter, string policyName, RateLimitPolicy policy, string key)
    {
        var decision = await limiter.AcquireAsync(policyName, policy, key, context.RequestAborted);
        if (decision.Allowed)
        {
            return true;
        }

        context.RequestServices.GetRequiredService<GatewayMetrics>().RateLimitExceeded(RouteLabel, policyName);
        var seconds = Math.Max(1, (long)Math.Ceiling(decision.RetryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await ProblemResponse.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too many login attempts; try again later.", extensions: new Dictionary<string, object?> { ["policy"] = policyName });
        return false;
    }
}
