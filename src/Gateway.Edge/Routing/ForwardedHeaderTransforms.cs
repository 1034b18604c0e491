using System.Net.Http.Headers;
using Gateway.Edge.Pipeline;
using Gateway.Hosting.Configuration;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Edge.Routing;

/// <summary>
/// On every route: drops the headers by which a client could claim an address, a URL or a method that an upstream
/// framework would believe (<c>X-Real-IP</c>, <c>X-Original-URL</c>, <c>X-HTTP-Method-Override</c> unless the route lists
/// them in <c>forward_client_headers</c>; <c>X-Original-Method</c>, <c>X-Rewrite-URL</c>, <c>X-HTTP-Method</c>,
/// <c>X-Method-Override</c> always), in any case and with <c>_</c> for <c>-</c>. YARP's own transforms set
/// <c>X-Forwarded-Host</c>, <c>-Proto</c> and <c>-Prefix</c> (replacing the client's) and remove <c>Forwarded</c>;
/// <c>X-Forwarded-For</c> is the client chain resolved against <c>trusted_proxies</c>, not YARP's peer-only value.
/// </summary>
internal sealed class ForwardedHeaderTransforms : ITransformProvider
{
    /// <summary>The YARP route metadata key carrying a route's <c>forward_client_headers</c>, comma-separated.</summary>
    public const string ForwardClientHeadersKey = "gateway.forward_client_headers";

    public const string ForwardedFor = "X-Forwarded-For";

    private static readonly string[] AlwaysDropped = ["X-Original-Method", "X-Rewrite-URL", "X-HTTP-Method", "X-Method-Override"];

    /// <summary>Set by YARP's transforms or ours; only their underscore spellings, which YARP does not replace, are dropped.</summary>
    private static readonly string[] ForwardedNames = [ForwardedFor, "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Prefix"];

    /// <summary>The route metadata of <paramref name="route"/>'s opt-in, or null when it forwards none of the headers.</summary>
    public static Dictionary<string, string>? RouteMetadata(RouteDefinition route) =>
        route.ForwardClientHeaders.IsDefaultOrEmpty ? null : new() { [ForwardClientHeadersKey] = string.Join(',', route.ForwardClientHeaders) };

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var allowed = context.Route?.Metadata?.GetValueOrDefault(ForwardClientHeadersKey)?.Split(',') ?? [];
        string[] dropped = [.. ForwardableClientHeaders.All.Where(name => !allowed.Contains(name, StringComparer.OrdinalIgnoreCase)), .. AlwaysDropped];
        var config = context.Services.GetRequiredService<GatewayConfigStore>();

        // Instead of YARP's default forwarders (added only when no X-Forwarded transform is): the same, but our X-Forwarded-For.
        context.AddXForwardedPrefix();
        context.AddXForwardedHost();
        context.AddXForwardedProto();
        context.AddRequestHeaderRemove("Forwarded");

        // First of all transforms, so that what the route itself sets (request_headers) is applied after and wins.
        context.RequestTransforms.Insert(0, new RequestFuncTransform(transform =>
        {
            Drop(transform.ProxyRequest.Headers, dropped);
            var http = transform.HttpContext;
            var request = http.GatewayRequest();
            var sent = http.Request.Headers[ForwardedFor];

            // Without a client chain the chain is the peer, which the first step already resolved: no second parse.
            var chain = sent.Count == 0
                ? (request.ClientAddress == GatewayRequestFeature.UnknownClient ? null : request.ClientAddress)
                : ClientAddressResolver.ForwardedFor(http.Connection.RemoteIpAddress, sent, request.Config.TrustedProxies);
            transform.ProxyRequest.Headers.Remove(ForwardedFor);
            if (chain is not null)
            {
                transform.ProxyRequest.Headers.TryAddWithoutValidation(ForwardedFor, chain);
            }

            return ValueTask.CompletedTask;
        }));
    }

    /// <summary>True when <paramref name="name"/> is <paramref name="candidate"/> in any case, with <c>_</c> for any <c>-</c>.</summary>
    public static bool SameHeader(string name, string candidate)
    {
        if (name.Length != candidate.Length)
        {
            return false;
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i] == '_' ? '-' : name[i];
            if (char.ToUpperInvariant(c) != char.ToUpperInvariant(candidate[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool AnySame(string name, string[] candidates)
    {
        foreach (var candidate in candidates)
        {
            if (SameHeader(name, candidate))
            {
                return true;
            }
        }

        return false;
    }

    private static void Drop(HttpHeaders headers, string[] dropped)
    {
        List<string>? found = null;
        foreach (var header in headers.NonValidated)
        {
            var name = header.Key;
            if (AnySame(name, dropped) || name.Contains('_', StringComparison.Ordinal) && AnySame(name, ForwardedNames))
            {
                (found ??= []).Add(name);
            }
        }

        foreach (var name in found ?? [])
        {
            headers.Remove(name);
        }
    }
}
