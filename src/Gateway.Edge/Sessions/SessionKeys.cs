using System.Security.Cryptography;
using System.Text;
using Gateway.Hosting.Configuration;

namespace Gateway.Edge.Sessions;

/// <summary>One signing key and its public id. The id is derived from the key (an HMAC of a fixed label), never the key.</summary>
internal sealed class SessionKey
{
    public const int MinimumBytes = 32;

    private static readonly byte[] KeyIdLabel = "gateway session key id v1"u8.ToArray();

    public SessionKey(byte[] secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.Length < MinimumBytes)
        {
            throw new ArgumentException($"A session key needs at least {MinimumBytes} bytes.", nameof(secret));
        }

        Secret = secret;
        Id = System.Buffers.Text.Base64Url.EncodeToString(HMACSHA256.HashData(secret, KeyIdLabel).AsSpan(0, SessionTokenCodec.KeyIdBytes));
    }

    /// <summary>The key id carried in tokens: 8 base64url characters.</summary>
    public string Id { get; }

    internal byte[] Secret { get; }

    /// <summary>Never the secret.</summary>
    public override string ToString() => $"session key {Id}";
}

/// <summary>
/// The current signing key (<c>SESSION_SECRET</c>) and the previous one (<c>SESSION_SECRET_PREVIOUS</c>), which still
/// verifies during a rotation. Read at start: a missing or short secret stops the process naming the variable.
/// </summary>
internal sealed class SessionKeys
{
    public SessionKeys(SessionKey current, SessionKey? previous, bool generated)
    {
        Current = current;
        Previous = previous is not null && previous.Id != current.Id ? previous : null;
        Generated = generated;
    }

    public SessionKey Current { get; }

    public SessionKey? Previous { get; }

    /// <summary>Embedded mode without <c>SESSION_SECRET</c>: a random key, so sessions end with the process.</summary>
    public bool Generated { get; }

    public SessionKey? Find(ReadOnlySpan<char> keyId)
    {
        if (keyId.SequenceEqual(Current.Id))
        {
            return Current;
        }

        return Previous is not null && keyId.SequenceEqual(Previous.Id) ? Previous : null;
    }

    /// <summary>Reads and validates the secrets; throws <see cref="GatewayConfigurationException"/> naming each bad variable.</summary>
    public static SessionKeys Read(Microsoft.Extensions.Configuration.IConfiguration configuration, bool embedded)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var errors = new List<ConfigError>();
        var current = ReadKey(configuration, EnvironmentVariables.SessionSecret, errors);
        var previous = ReadKey(configuration, EnvironmentVariables.SessionSecretPrevious, errors);
        var generated = false;
        if (current is null && errors.Count == 0)
        {
            if (embedded)
            {
                current = new SessionKey(RandomNumberGenerator.GetBytes(48));
                generated = true;
            }
            else
            {
                errors.Add(new ConfigError(EnvironmentVariables.SessionSecret, $"is required in clustered mode ({EnvironmentVariables.RedisConnection} is set): at least {SessionKey.MinimumBytes} bytes, e.g. from `openssl rand -base64 48`"));
            }
        }

        if (errors.Count > 0 || current is null)
        {
            throw new GatewayConfigurationException("environment", errors);
        }

        return new SessionKeys(current, previous, generated);
    }

    private static SessionKey? ReadKey(Microsoft.Extensions.Configuration.IConfiguration configuration, string name, List<ConfigError> errors)
    {
        var value = configuration[name];
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        if (bytes.Length < SessionKey.MinimumBytes)
        {
            // Name the variable and the rule, never the value or its length.
            errors.Add(new ConfigError(name, $"is shorter than {SessionKey.MinimumBytes} bytes"));
            return null;
        }

        return new SessionKey(bytes);
    }
}
