using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.Configuration;
using StackExchange.Redis;

namespace Gateway.Hosting.Configuration;

/// <summary>
/// The process-level settings shared by the edge and the silo, read from the contract's environment variables.
/// </summary>
public sealed record HostSettings(
    string ConfigPath,
    ConfigurationOptions? Redis,
    string ClusterId,
    string ServiceId,
    int SiloPort,
    int GatewayPort,
    IPAddress AdvertisedIp,
    TimeSpan? SessionTtl,
    TimeSpan DrainDelay,
    IReadOnlyList<string> ManagementUrls)
{
    public const string DefaultConfigPath = "config/gateway.yml";
    public const string DefaultClusterId = "api-gateway";

    /// <summary>The shortest <c>ADMIN_TOKEN</c> accepted, in UTF-8 bytes.</summary>
    public const int MinAdminTokenBytes = 32;

    /// <summary>The ports of <see cref="ManagementUrls"/>; empty when <c>MANAGEMENT_URLS</c> is unset.</summary>
    public IReadOnlySet<int> ManagementPorts { get; } = ManagementUrls.Select(url => new Uri(AsUri(url)).Port).ToHashSet();

    /// <summary>
    /// How often a silo writes its I-am-alive time to the membership table (<c>ORLEANS_IAMALIVE_INTERVAL</c>, default 10 s).
    /// A silo that joins while crashed silos are still listed as active waits until their entries are three intervals
    /// old, so after a crash of every silo the first new one is ready about 30 s later with the default.
    /// </summary>
    public TimeSpan IAmAliveInterval { get; init; } = DefaultIAmAliveInterval;

    public static readonly TimeSpan DefaultIAmAliveInterval = TimeSpan.FromSeconds(10);

    /// <summary>No <c>REDIS_CONNECTION</c>: one process, localhost clustering, in-memory grain state.</summary>
    public bool IsEmbedded => Redis is null;

    /// <summary>Reads and validates the settings; throws with every error, each named by its variable.</summary>
    public static HostSettings Read(IConfiguration configuration)
    {
        var errors = new List<ConfigError>();
        var redis = ReadRedis(configuration, errors);
        var siloPort = ReadPort(configuration, EnvironmentVariables.SiloPort, 11111, errors);
        var gatewayPort = ReadPort(configuration, EnvironmentVariables.GatewayPort, 30000, errors);
        var advertised = IPAddress.Loopback;
        if (configuration[EnvironmentVariables.AdvertisedIp] is { Length: > 0 } ipText && !IPAddress.TryParse(ipText, out advertised!))
        {
            errors.Add(new ConfigError(EnvironmentVariables.AdvertisedIp, $"'{ipText}' is not an IP address"));
            advertised = IPAddress.Loopback;
        }

        TimeSpan? ttl = null;
        if (configuration[EnvironmentVariables.SessionTtl] is { Length: > 0 } ttlText)
        {
            if (DurationParser.TryParse(ttlText, out var parsed) && parsed > TimeSpan.Zero)
            {
                ttl = parsed;
            }
            else
            {
                errors.Add(new ConfigError(EnvironmentVariables.SessionTtl, $"'{ttlText}' is not {DurationParser.Expected}, greater than zero"));
            }
        }

        var drainDelay = redis is null ? TimeSpan.Zero : TimeSpan.FromSeconds(5);
        if (configuration[EnvironmentVariables.DrainDelay] is { Length: > 0 } drainText)
        {
            if (DurationParser.TryParse(drainText, out var parsed))
            {
                drainDelay = parsed;
            }
            else
            {
                errors.Add(new ConfigError(EnvironmentVariables.DrainDelay, $"'{drainText}' is not {DurationParser.Expected}"));
            }
        }

        var iAmAlive = DefaultIAmAliveInterval;
        if (configuration[EnvironmentVariables.IAmAliveInterval] is { Length: > 0 } iAmAliveText)
        {
            if (DurationParser.TryParse(iAmAliveText, out var parsed) && parsed >= TimeSpan.FromSeconds(1) && parsed <= TimeSpan.FromMinutes(5))
            {
                iAmAlive = parsed;
            }
            else
            {
                errors.Add(new ConfigError(EnvironmentVariables.IAmAliveInterval, $"'{iAmAliveText}' is not {DurationParser.Expected}, from 1s to 5m"));
            }
        }

        var managementUrls = ReadManagementUrls(configuration, errors);

        // The token itself never leaves this check: it is read where it is used, and never stored in these settings.
        if (configuration[EnvironmentVariables.AdminToken] is { Length: > 0 } adminToken && Encoding.UTF8.GetByteCount(adminToken) < MinAdminTokenBytes)
        {
            errors.Add(new ConfigError(EnvironmentVariables.AdminToken, $"is shorter than {MinAdminTokenBytes} bytes; generate one with: openssl rand -base64 32"));
        }

        if (errors.Count > 0)
        {
            throw new GatewayConfigurationException("environment", errors);
        }

        return new HostSettings(
            configuration[EnvironmentVariables.ConfigPath] is { Length: > 0 } path ? path : DefaultConfigPath,
            redis,
            NonEmpty(configuration[EnvironmentVariables.ClusterId]) ?? DefaultClusterId,
            NonEmpty(configuration[EnvironmentVariables.ServiceId]) ?? DefaultClusterId,
            siloPort,
            gatewayPort,
            advertised,
            ttl,
            drainDelay,
            managementUrls)
        {
            IAmAliveInterval = iAmAlive,
        };
    }

    /// <summary><c>MANAGEMENT_URLS</c>: absolute <c>http://</c> URLs with a fixed port, separated by <c>;</c> as in <c>ASPNETCORE_URLS</c>.</summary>
    private static List<string> ReadManagementUrls(IConfiguration configuration, List<ConfigError> errors)
    {
        var urls = new List<string>();
        var text = configuration[EnvironmentVariables.ManagementUrls];
        if (string.IsNullOrWhiteSpace(text))
        {
            return urls;
        }

        foreach (var entry in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(AsUri(entry), UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttp)
            {
                errors.Add(new ConfigError(EnvironmentVariables.ManagementUrls, $"'{entry}' is not an absolute http:// URL such as http://0.0.0.0:8082"));
            }
            else if (url.Port == 0 || url.AbsolutePath != "/" || url.Query.Length > 0)
            {
                errors.Add(new ConfigError(EnvironmentVariables.ManagementUrls, $"'{entry}' must name a fixed port and no path, such as http://0.0.0.0:8082"));
            }
            else
            {
                urls.Add(entry);
            }
        }

        return urls;
    }

    /// <summary>Kestrel's wildcard hosts (<c>+</c>, <c>*</c>) are not URI hosts: read them as 0.0.0.0.</summary>
    internal static string AsUri(string url) =>
        url.Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal);

    private static ConfigurationOptions? ReadRedis(IConfiguration configuration, List<ConfigError> errors)
    {
        var connection = NonEmpty(configuration[EnvironmentVariables.RedisConnection]);
        if (connection is null)
        {
            return null;
        }

        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(connection);
        }
        catch (ArgumentException ex)
        {
            // The message of StackExchange.Redis may echo the string; name the variable, never the value.
            errors.Add(new ConfigError(EnvironmentVariables.RedisConnection, $"is not a StackExchange.Redis connection string ({ex.GetType().Name})"));
            return null;
        }

        if (options.EndPoints.Count == 0)
        {
            errors.Add(new ConfigError(EnvironmentVariables.RedisConnection, "names no endpoint; expected host:port such as 127.0.0.1:6379"));
            return null;
        }

        if (NonEmpty(configuration[EnvironmentVariables.RedisPassword]) is { } password)
        {
            options.Password = password;
        }

        // Start and keep retrying while Redis is down rather than failing the process.
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, 5000);
        return options;
    }

    private static int ReadPort(IConfiguration configuration, string name, int fallback, List<ConfigError> errors)
    {
        var text = configuration[name];
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535)
        {
            return port;
        }

        errors.Add(new ConfigError(name, $"'{text}' is not a port number (1-65535)"));
        return fallback;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

/// <summary>The names of the contract's environment variables.</summary>
public static class EnvironmentVariables
{
    public const string ConfigPath = "GATEWAY_CONFIG";
    public const string RedisConnection = "REDIS_CONNECTION";
    public const string RedisPassword = "REDIS_PASSWORD";
    public const string ClusterId = "ORLEANS_CLUSTER_ID";
    public const string ServiceId = "ORLEANS_SERVICE_ID";
    public const string SiloPort = "ORLEANS_SILO_PORT";
    public const string GatewayPort = "ORLEANS_GATEWAY_PORT";
    public const string AdvertisedIp = "ORLEANS_ADVERTISED_IP";
    public const string SessionSecret = "SESSION_SECRET";
    public const string SessionSecretPrevious = "SESSION_SECRET_PREVIOUS";
    public const string SessionTtl = "SESSION_TTL";
    public const string AdminToken = "ADMIN_TOKEN";

    /// <summary>The edge's listener(s) for <c>/metrics</c>, <c>/admin/*</c> and the dashboard; unset = the traffic listener serves them.</summary>
    public const string ManagementUrls = "MANAGEMENT_URLS";

    /// <summary>How long a SIGTERM'd process keeps serving with readiness failed; default 5s clustered, 0 embedded.</summary>
    public const string DrainDelay = "SHUTDOWN_DRAIN_DELAY";

    /// <summary>How often a silo writes its I-am-alive time to the membership table; default 10s.</summary>
    public const string IAmAliveInterval = "ORLEANS_IAMALIVE_INTERVAL";

    /// <summary>How many log lines may wait for stdout (<c>Observability.LogLineBuffer</c>).</summary>
    public const string LogBufferLines = "LOG_BUFFER_LINES";
}
