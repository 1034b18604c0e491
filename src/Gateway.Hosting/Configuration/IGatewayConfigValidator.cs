namespace Gateway.Hosting.Configuration;

/// <summary>
/// A check a parsed <c>gateway.yml</c> must pass before it is accepted, at start and on every reload (the edge checks
/// its routes and upstreams with the proxy's own validator). A configuration any validator refuses is refused as a whole.
/// </summary>
public interface IGatewayConfigValidator
{
    /// <returns>Every problem found, each named by the key that fixes it; empty when the configuration is acceptable.</returns>
    IReadOnlyList<ConfigError> Validate(GatewayConfig config);
}
