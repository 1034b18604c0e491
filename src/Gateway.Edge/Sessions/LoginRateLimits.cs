using System.Text;
using System.Text.Json;
using Gateway.Edge.Pipeline;
using Gateway.Edge.RateLimiting;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Http;
using Gateway.Hosting.Observability;

namespace Gateway.Edge.Sessions;

/// <summary>
/// Brute-force limits of <c>POST /auth/login</c>, through the cluster-wide rate limiter: per client IP
/// (<c>login-ip:&lt;ip&gt;</c>), tightly per (client IP, user name) (<c>login-user-ip:&lt;ip&gt;|&lt;name&gt;</c>) and more loosely
/// per user name (<c>login-user:&lt;name&gt;</c>). One address cannot try many names nor many passwords of one name, and
/// it cannot lock out a user who logs in from elsewhere; many addresses trying one name are still bounded. An IPv6
/// client counts as its /64. The limits always fail closed: when the limiter does not answer, the login is refused (503).
/// </summary>
internal sealed class LoginRateLimits(IRateLimiter limiter, GatewayMetrics metrics)
{
    public const string RouteLabel = "auth_login";
    public const string IpPolicyName = "login-ip";
    public const string UserIpPolicyName = "login-user-ip";
    public const string UserPolicyName = "login-user";

    /// <summary>30 attempts a minute per address, at most 10 at once.</summary>
    public static readonly RateLimitPolicy PerIp = new(30, TimeSpan.FromMinutes(1), 10);

    /// <summary>5 attempts a minute per (address, user name), at most 5 at once.</summary>
    public static readonly RateLimitPolicy PerUserAndIp = new(5, TimeSpan.FromMinutes(1), 5);

    /// <summary>100 attempts a minute per user name from anywhere, at most 50 at once.</summary>
    public static readonly RateLimitPolicy PerUser = new(100, TimeSpan.FromMinutes(1), 50);

    /// <summary>
    /// How long a login waits for its limits: logins are rare and fail closed, so a bucket that must first be activated
    /// (the usual case for a login) gets time to answer rather than a 503.
    /// </summary>
    public static readonly TimeSpan DecisionBudget = TimeSpan.FromSeconds(1);

    /// <summary>The longest user name used as a key; longer ones are cut (they are counted, not stored).</summary>
    public const int MaxUserNameLength = 128;

    private const string UserNameProperty = "username";

    private static readonly JsonDocumentOptions ParseOptions = new()
    {
        // As lenient as the usual server-side parsers, so that no body the identity upstream reads escapes the per-user limits.
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>Admits the attempt or writes the 400, 429 or 503 and returns false.</summary>
    public async ValueTask<bool> AdmitAsync(HttpContext context, ReadOnlyMemory<byte> body)
    {
        if (!TryReadUserName(body, out var user))
        {
            await ProblemResponse.WriteAsync(context, StatusCodes.Status400BadRequest, "The login body must be a JSON object with at most one \"username\".");
            return false;
        }

        var ip = ClientKeys.AddressPart(context.GatewayRequest().ClientAddress);
        if (!await AcquireAsync(context, IpPolicyName, PerIp, $"{IpPolicyName}:{ip}"))
        {
            return false;
        }

        if (user is null)
        {
            return true;
        }

        // The address's own allowance first: an attacker who spent it spends nothing of the user's shared one.
        return await AcquireAsync(context, UserIpPolicyName, PerUserAndIp, $"{UserIpPolicyName}:{ip}|{user}")
            && await AcquireAsync(context, UserPolicyName, PerUser, $"{UserPolicyName}:{user}");
    }

    /// <summary>
    /// The login body's user name as the limits key it: the <c>username</c> property (matched case-insensitively, as
    /// case-insensitive binders read it), after a leading UTF-8 BOM, trimmed, NFKC-folded and lower-cased; null when
    /// the body names none. False when the body cannot be read as the identity upstream would: not JSON, or more than one
    /// <c>username</c> (parsers disagree on which one wins).
    /// </summary>
    internal static bool TryReadUserName(ReadOnlyMemory<byte> body, out string? user)
    {
        user = null;
        var json = body.Span.StartsWith(Encoding.UTF8.Preamble) ? body[Encoding.UTF8.Preamble.Length..] : body;
        try
        {
            using var document = JsonDocument.Parse(json, ParseOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return true;
            }

            JsonElement? name = null;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (string.Equals(property.Name, UserNameProperty, StringComparison.OrdinalIgnoreCase))
                {
                    if (name is not null)
                    {
                        return false;
                    }

                    name = property.Value;
                }
            }

            if (name is { ValueKind: JsonValueKind.String } value && value.GetString()!.Trim() is { Length: > 0 } text)
            {
                text = Fold(text).Trim().ToLowerInvariant();
                user = text.Length > MaxUserNameLength ? text[..MaxUserNameLength] : text;
            }

            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // Not JSON, or a name that is not valid UTF-16 (a lone surrogate escape).
            return false;
        }
    }

    /// <summary>
    /// NFKC. The gateway runs with invariant globalization, where <see cref="string.Normalize(NormalizationForm)"/> leaves
    /// non-ASCII text as it is, so the compatibility forms that spell ASCII user names (fullwidth letters, digits and
    /// signs, the ideographic space) are also folded here.
    /// </summary>
    internal static string Fold(string text)
    {
        text = text.Normalize(NormalizationForm.FormKC);
        if (!text.AsSpan().ContainsAnyInRange('\u3000', '\uFF5E'))
        {
            return text;
        }

        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = c switch
                {
                    >= '\uFF01' and <= '\uFF5E' => (char)(c - 0xFEE0),
                    '\u3000' => ' ',
                    _ => c,
                };
            }
        });
    }

    private async ValueTask<bool> AcquireAsync(HttpContext context, string policyName, RateLimitPolicy policy, string key)
    {
        var decision = await limiter.AcquireAsync(policyName, policy, key, BackendFailureMode.Closed, DecisionBudget, context.RequestAborted);
        if (decision.Allowed)
        {
            return true;
        }

        if (decision.BackendUnavailable)
        {
            await ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "The login limiter is unavailable; try again later.");
            return false;
        }

        // The same headers and rounding as every other 429 of the edge.
        RateLimitResponses.SetHeaders(context.Response, policyName, policy, decision);
        await RateLimitResponses.WriteExceededAsync(context, metrics, RouteLabel, policyName, decision, "Too many login attempts; try again later.", new Dictionary<string, object?> { ["policy"] = policyName });
        return false;
    }
}
