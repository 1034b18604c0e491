using System.Runtime.CompilerServices;
using Gateway.Edge.Routing;
using Gateway.Hosting.Configuration;
using Microsoft.AspNetCore.Cors.Infrastructure;

namespace Gateway.Edge.Cors;

/// <summary>
/// ASP.NET Core's CORS policies for routes with <c>cors</c>: YARP marks the route's endpoint with the policy name
/// <see cref="PolicyName"/>, and ASP.NET Core's CORS middleware answers preflights (204 with the allow headers, never
/// reaching the upstream) and adds the allow headers to actual requests from an allowed origin. The policy is built from
/// the revision of the matched endpoint, once per route definition. Other names go to ASP.NET Core's default provider.
/// </summary>
/// <remarks>
/// It must not depend on <see cref="GatewayConfigStore"/>: YARP's validator, which the store runs on every file, asks this
/// provider whether a route's policy exists (with no endpoint), and gets an empty policy.
/// </remarks>
internal sealed class RouteCorsPolicyProvider(Microsoft.Extensions.Options.IOptions<CorsOptions> options) : ICorsPolicyProvider
{
    private const string Prefix = "gateway.cors:";

    private static readonly ConditionalWeakTable<CorsConfig, CorsPolicy> Built = [];

    private readonly DefaultCorsPolicyProvider _fallback = new(options);

    public static string PolicyName(string routeId) => Prefix + routeId;

    public Task<CorsPolicy?> GetPolicyAsync(HttpContext context, string? policyName)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (policyName is null || !policyName.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return _fallback.GetPolicyAsync(context, policyName);
        }

        // The matched endpoint's revision; YARP's validator asks without an endpoint and only needs to know the name exists.
        var cors = context.GetEndpoint()?.Metadata.GetMetadata<GatewayRoute>()?.Route.Features.Cors;
        return Task.FromResult<CorsPolicy?>(cors is null ? new CorsPolicy() : Built.GetValue(cors, Build));
    }

    internal static CorsPolicy Build(CorsConfig cors)
    {
        var builder = new CorsPolicyBuilder();
        if (cors.Origins.Contains("*"))
        {
            builder.AllowAnyOrigin();
        }
        else
        {
            builder.WithOrigins([.. cors.Origins]);
        }

        if (cors.Methods.IsDefaultOrEmpty || cors.Methods.Contains("*"))
        {
            builder.AllowAnyMethod();
        }
        else
        {
            builder.WithMethods([.. cors.Methods]);
        }

        if (cors.Headers.Contains("*"))
        {
            builder.AllowAnyHeader();
        }
        else
        {
            builder.WithHeaders([.. cors.Headers]);
        }

        if (cors.Credentials)
        {
            builder.AllowCredentials();
        }

        if (cors.MaxAge is { } maxAge)
        {
            builder.SetPreflightMaxAge(maxAge);
        }

        return builder.Build();
    }
}
