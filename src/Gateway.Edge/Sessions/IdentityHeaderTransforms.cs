using System.Net.Http.Headers;
using Gateway.Edge.Pipeline;
using Gateway.Hosting.Configuration;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Edge.Sessions;

/// <summary>
/// On every route: removes any <c>X-User-Id</c>, <c>X-User-Tier</c> or <c>X-User-Roles</c> the client sent (any case,
/// <c>_</c> for <c>-</c>), then adds them from the request's valid session, if any. The gateway's own credential (a
/// <c>Bearer v1.…</c> session token, the session cookie) is never forwarded: upstreams get the identity, not a token
/// they could replay. Other <c>Authorization</c> schemes and other cookies pass through.
/// </summary>
internal sealed class IdentityHeaderTransforms : ITransformProvider
{
    public const string UserId = "X-User-Id";
    public const string UserTier = "X-User-Tier";
    public const string UserRoles = "X-User-Roles";

    private static readonly string[] Names = [UserId, UserTier, UserRoles];

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // Resolved once per route build, not per request; the cookie name is still read from the config in force.
        var config = context.Services.GetRequiredService<GatewayConfigStore>();
        context.AddRequestTransform(request => Transform(request, config));
    }

    /// <summary>True for the identity headers' names in any case and with underscores for dashes.</summary>
    public static bool IsIdentityHeader(string name)
    {
        foreach (var candidate in Names)
        {
            if (name.Length != candidate.Length)
            {
                continue;
            }

            var match = true;
            for (var i = 0; i < name.Length && match; i++)
            {
                var c = name[i] == '_' ? '-' : name[i];
                match = char.ToUpperInvariant(c) == char.ToUpperInvariant(candidate[i]);
            }

            if (match)
            {
                return true;
            }
        }

        return false;
    }

    internal static ValueTask Transform(RequestTransformContext context, GatewayConfigStore config)
    {
        Strip(context.ProxyRequest.Headers);
        StripGatewayCredentials(context.ProxyRequest.Headers, config.Current.Session.Cookie);
        if (context.ProxyRequest.Content is { } content)
        {
            Strip(content.Headers);
        }

        if (context.HttpContext.Features.Get<GatewayRequestFeature>()?.Session is { } session)
        {
            var headers = context.ProxyRequest.Headers;
            headers.TryAddWithoutValidation(UserId, session.Identity.UserId);
            if (!string.IsNullOrEmpty(session.Identity.Tier))
            {
                headers.TryAddWithoutValidation(UserTier, session.Identity.Tier);
            }

            headers.TryAddWithoutValidation(UserRoles, session.RolesHeader);
        }

        return ValueTask.CompletedTask;
    }

    private static bool AnyGatewayBearer(HeaderStringValues values)
    {
        foreach (var value in values)
        {
            if (GatewayCredentials.IsGatewayBearer(value))
            {
                return true;
            }
        }

        return false;
    }

    private static void Strip(HttpHeaders headers)
    {
        List<string>? found = null;
        foreach (var header in headers.NonValidated)
        {
            if (IsIdentityHeader(header.Key))
            {
                (found ??= []).Add(header.Key);
            }
        }

        foreach (var name in found ?? [])
        {
            headers.Remove(name);
        }
    }

    /// <summary>
    /// Removes every <c>Authorization</c> value that is a gateway bearer token (any case of the scheme), and the session
    /// cookie, in any spelling, from every <c>Cookie</c> header; other values and cookies pass through as received.
    /// </summary>
    internal static void StripGatewayCredentials(HttpRequestHeaders headers, string cookieName)
    {
        if (headers.NonValidated.TryGetValues("Authorization", out var authorizations) && AnyGatewayBearer(authorizations))
        {
            if (authorizations.Count == 1)
            {
                headers.Remove("Authorization"); // the usual case: the one value is the gateway's token
            }
            else
            {
                KeepOtherAuthorizations(headers, authorizations);
            }
        }

        StripCookie(headers, cookieName);
    }

    private static void KeepOtherAuthorizations(HttpRequestHeaders headers, HeaderStringValues authorizations)
    {
        var kept = new List<string>(authorizations.Count);
        foreach (var value in authorizations)
        {
            if (!GatewayCredentials.IsGatewayBearer(value))
            {
                kept.Add(value);
            }
        }

        headers.Remove("Authorization");
        foreach (var value in kept)
        {
            headers.TryAddWithoutValidation("Authorization", value);
        }
    }

    private static void StripCookie(HttpRequestHeaders headers, string cookieName)
    {
        if (headers.NonValidated.TryGetValues("Cookie", out var cookies)
            && GatewayCredentials.TryStripCookie(cookies, cookieName, out var keptCookies))
        {
            headers.Remove("Cookie");
            if (keptCookies is not null)
            {
                headers.TryAddWithoutValidation("Cookie", keptCookies);
            }
        }
    }
}
