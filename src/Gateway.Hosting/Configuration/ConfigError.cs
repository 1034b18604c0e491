namespace Gateway.Hosting.Configuration;

/// <summary>One problem in a configuration source, named by the key that fixes it.</summary>
/// <param name="Key">The key path, e.g. <c>routes[0].upstream</c>, or an environment variable name.</param>
/// <param name="Message">What is wrong.</param>
/// <param name="Line">1-based line in <c>gateway.yml</c>, when known.</param>
public sealed record ConfigError(string Key, string Message, int? Line = null)
{
    public override string ToString() => Line is { } line ? $"{Key}: {Message} (line {line})" : $"{Key}: {Message}";
}

/// <summary>Thrown at start when a required setting is missing or invalid; carries every error found.</summary>
public sealed class GatewayConfigurationException(string source, IReadOnlyList<ConfigError> errors)
    : Exception($"{source} is invalid: " + string.Join("; ", errors))
{
    public string ConfigSource { get; } = source;

    public IReadOnlyList<ConfigError> Errors { get; } = errors;
}
