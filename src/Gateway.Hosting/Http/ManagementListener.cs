using Gateway.Hosting.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Hosting.Http;

/// <summary>Which listeners an endpoint answers on once <c>MANAGEMENT_URLS</c> is set.</summary>
[Flags]
public enum Listeners
{
    /// <summary>The traffic listener only (<c>ASPNETCORE_URLS</c>); every endpoint without <see cref="ServedOn"/> metadata.</summary>
    Traffic = 1,

    /// <summary>The management listener only: <c>/metrics</c>, <c>/admin/*</c>, the dashboard.</summary>
    Management = 2,

    /// <summary>Both: <c>/health/*</c> and the 404 fallback.</summary>
    Both = Traffic | Management,
}

/// <summary>Endpoint metadata: the listeners the endpoint answers on when <c>MANAGEMENT_URLS</c> is set.</summary>
public sealed record ServedOn(Listeners Listeners);

/// <summary>
/// The management listener: when <c>MANAGEMENT_URLS</c> is set, Kestrel also listens there, management endpoints answer only
/// there, and the traffic listener treats their paths as unknown (404), whatever proxy route would otherwise match them.
/// The listener is told by the connection's local port, never by the client's <c>Host</c> header.
/// </summary>
public static class ManagementListener
{
    /// <summary>Path prefixes of the management surface, kept from proxy routes on the traffic listener too.</summary>
    public static readonly IReadOnlyList<PathString> ManagementPaths = ["/metrics", "/admin", "/dashboard"];

    public static TBuilder OnListeners<TBuilder>(this TBuilder builder, Listeners listeners)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new ServedOn(listeners));

    /// <summary>Adds the management URLs to Kestrel's listeners and the routing policy that separates the two; no-op when unset.</summary>
    public static void AddManagementListener(this WebApplicationBuilder builder, HostSettings settings)
    {
        if (settings.ManagementUrls.Count == 0)
        {
            return;
        }

        // AddGatewayDefaults has settled the traffic URLs (ASPNETCORE_URLS, --urls or the default); HTTP_PORTS alone is
        // turned into URLs so that it is not lost once URLs are set.
        var traffic = builder.Configuration[WebHostDefaults.ServerUrlsKey];
        if (string.IsNullOrEmpty(traffic) && builder.Configuration["HTTP_PORTS"] is { Length: > 0 } ports)
        {
            traffic = string.Join(';', ports.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(port => $"http://*:{port}"));
        }

        var trafficUrls = (traffic ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shared = trafficUrls.Select(PortOf).Where(port => port is not null && settings.ManagementPorts.Contains(port.Value)).ToList();
        if (shared.Count > 0)
        {
            // One port cannot tell the two listeners apart.
            throw new GatewayConfigurationException("environment", [new ConfigError(EnvironmentVariables.ManagementUrls, $"port {shared[0]} is also a traffic port (ASPNETCORE_URLS); use a port of its own, such as 8082")]);
        }

        builder.WebHost.UseUrls([.. trafficUrls, .. settings.ManagementUrls]);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, ManagementListenerPolicy>());
    }

    private static int? PortOf(string url) => Uri.TryCreate(HostSettings.AsUri(url), UriKind.Absolute, out var uri) ? uri.Port : null;
}

/// <summary>Drops the candidate endpoints that do not answer on the listener a request came in on.</summary>
internal sealed class ManagementListenerPolicy(HostSettings settings) : MatcherPolicy, IEndpointSelectorPolicy
{
    private readonly IReadOnlySet<int> _managementPorts = settings.ManagementPorts;

    // After the built-in policies (host, method): it only removes candidates.
    public override int Order => 1000;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => _managementPorts.Count > 0 && endpoints.Count > 0;

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var onManagement = _managementPorts.Contains(httpContext.Connection.LocalPort);
        var listener = onManagement ? Listeners.Management : Listeners.Traffic;
        var reserved = !onManagement && IsManagementPath(httpContext.Request.Path);
        for (var i = 0; i < candidates.Count; i++)
        {
            if (!candidates.IsValidCandidate(i))
            {
                continue;
            }

            var servedOn = candidates[i].Endpoint.Metadata.GetMetadata<ServedOn>()?.Listeners ?? Listeners.Traffic;

            // On the traffic listener a management path is unknown: only endpoints of both listeners (the 404 fallback) remain.
            if ((servedOn & listener) == 0 || (reserved && servedOn != Listeners.Both))
            {
                candidates.SetValidity(i, false);
            }
        }

        return Task.CompletedTask;
    }

    private static bool IsManagementPath(PathString path)
    {
        foreach (var prefix in ManagementListener.ManagementPaths)
        {
            if (path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
