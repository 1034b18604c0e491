using Gateway.Hosting.Configuration;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Edge.Routing;

/// <summary>
/// Checks a parsed <c>gateway.yml</c> with YARP's own validator before the gateway accepts it, so that a file YARP would
/// refuse (and silently keep its old routes for) is refused as a whole, at start and on reload, and counted as a failure.
/// </summary>
internal sealed class ProxyConfigValidator(IConfigValidator validator) : IGatewayConfigValidator
{
    public IReadOnlyList<ConfigError> Validate(GatewayConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = new List<ConfigError>();
        var proxy = GatewayProxyConfigProvider.Build(config);
        for (var i = 0; i < proxy.Routes.Count; i++)
        {
            // YARP's validators complete synchronously; a reload runs on a timer thread, never on a request.
            foreach (var error in validator.ValidateRouteAsync(proxy.Routes[i]).AsTask().GetAwaiter().GetResult())
            {
                errors.Add(new ConfigError($"routes[{i}]", $"refused by the proxy: {error.Message}"));
            }
        }

        foreach (var cluster in proxy.Clusters)
        {
            foreach (var error in validator.ValidateClusterAsync(cluster).AsTask().GetAwaiter().GetResult())
            {
                errors.Add(new ConfigError($"upstreams.{cluster.ClusterId}", $"refused by the proxy: {error.Message}"));
            }
        }

        return errors;
    }
}
