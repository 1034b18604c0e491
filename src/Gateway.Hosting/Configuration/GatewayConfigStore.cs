using System.Security.Cryptography;
using Gateway.Hosting.Observability;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Gateway.Hosting.Configuration;

/// <summary>
/// Holds the last good <see cref="GatewayConfig"/> and reloads it when <c>gateway.yml</c> changes.
/// A file watcher reacts at once; a slow poll of the content hash catches what watchers miss
/// (a Kubernetes ConfigMap update swaps a symlink). An invalid change is logged, counted and ignored.
/// </summary>
public sealed partial class GatewayConfigStore : IHostedService, IDisposable
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(200);

    private readonly string _path;
    private readonly TimeSpan? _sessionTtlOverride;
    private readonly TimeProvider _time;
    private readonly ILogger<GatewayConfigStore> _logger;
    private readonly GatewayMetrics _metrics;
    private readonly TimeSpan _pollInterval;
    private readonly IReadOnlyList<IGatewayConfigValidator> _validators;
    private readonly Lock _reloadLock = new();
    private CancellationTokenSource _changeSource = new();
    private byte[] _hash;
    private FileSystemWatcher? _watcher;
    private ITimer? _debounceTimer;
    private ITimer? _pollTimer;

    private GatewayConfigStore(string path, TimeSpan? sessionTtlOverride, GatewayConfig initial, byte[] hash, TimeProvider time, ILogger<GatewayConfigStore> logger, GatewayMetrics metrics, TimeSpan pollInterval, IReadOnlyList<IGatewayConfigValidator> validators)
    {
        _validators = validators;
        _path = path;
        _sessionTtlOverride = sessionTtlOverride;
        Current = initial;
        _hash = hash;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _pollInterval = pollInterval;
    }

    /// <summary>The configuration in force; replaced whole on a valid reload.</summary>
    public GatewayConfig Current { get; private set; }

    /// <summary>Where the file was read from (absolute).</summary>
    public string FilePath => _path;

    /// <summary>
    /// Loads the file; an unreadable or invalid file, or one a <paramref name="validators"/> refuses (the proxy's own
    /// validation), throws with every error listed.
    /// </summary>
    public static GatewayConfigStore Load(HostSettings settings, TimeProvider time, ILoggerFactory loggerFactory, GatewayMetrics metrics, TimeSpan? pollInterval = null, IEnumerable<IGatewayConfigValidator>? validators = null) =>
        Create(ReadFile(settings), time, loggerFactory, metrics, pollInterval, validators);

    /// <summary>Reads and parses the file named by <c>GATEWAY_CONFIG</c> once, at start; throws with every error found.</summary>
    public static GatewayConfigFile ReadFile(HostSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var path = Path.GetFullPath(settings.ConfigPath);
        var (result, hash) = Read(path, settings.SessionTtl, []);
        if (!result.IsValid)
        {
            throw new GatewayConfigurationException(path, result.Errors);
        }

        return new GatewayConfigFile(path, settings.SessionTtl, result.Config!, hash);
    }

    /// <summary>A store serving <paramref name="file"/>, once every validator accepts it (else throws with their errors).</summary>
    public static GatewayConfigStore Create(GatewayConfigFile file, TimeProvider time, ILoggerFactory loggerFactory, GatewayMetrics metrics, TimeSpan? pollInterval = null, IEnumerable<IGatewayConfigValidator>? validators = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var checks = validators?.ToArray() ?? [];
        var errors = Validate(file.Config, checks);
        if (errors.Count > 0)
        {
            throw new GatewayConfigurationException(file.Path, errors);
        }

        return new GatewayConfigStore(file.Path, file.SessionTtlOverride, file.Config, file.Hash, time, loggerFactory.CreateLogger<GatewayConfigStore>(), metrics, pollInterval ?? TimeSpan.FromSeconds(5), checks);
    }

    private static List<ConfigError> Validate(GatewayConfig config, IReadOnlyList<IGatewayConfigValidator> validators) =>
        [.. validators.SelectMany(validator => validator.Validate(config))];

    /// <summary>A token that fires on the next applied change.</summary>
    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _changeSource).Token);

    /// <summary>Reads the file now and applies it if it changed and is valid. Returns whether a new config was applied.</summary>
    public bool Reload()
    {
        lock (_reloadLock)
        {
            GatewayConfigParseResult result;
            byte[] hash;
            try
            {
                (result, hash) = Read(_path, _sessionTtlOverride, _validators);
            }
            catch (IOException ex)
            {
                // Mid-write or briefly missing during an atomic swap: keep the last good config, try again on the next event or poll.
                LogReadFailed(_logger, _path, ex.Message);
                return false;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Reload runs on a timer thread: whatever goes wrong, the process and the last good config stay up.
                _metrics.ConfigReloaded(success: false);
                LogReloadFailed(_logger, _path, ex);
                return false;
            }

            if (hash.AsSpan().SequenceEqual(_hash))
            {
                return false;
            }

            _hash = hash;
            if (!result.IsValid)
            {
                _metrics.ConfigReloaded(success: false);
                LogReloadRejected(_logger, _path, result.Errors.Count);
                foreach (var error in result.Errors)
                {
                    LogConfigError(_logger, error.ToString());
                }

                return false;
            }

            Current = result.Config!;
            _metrics.ConfigReloaded(success: true);
            LogReloaded(_logger, _path, Current.Routes.Length, Current.Upstreams.Count);
            var previous = Interlocked.Exchange(ref _changeSource, new CancellationTokenSource());
            previous.Cancel();
            previous.Dispose();
            return true;
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(_path)!;
        _debounceTimer = _time.CreateTimer(_ => Reload(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        try
        {
            _watcher = new FileSystemWatcher(directory)
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime | NotifyFilters.DirectoryName,
                IncludeSubdirectories = false,
            };
            _watcher.Changed += OnFileEvent;
            _watcher.Created += OnFileEvent;
            _watcher.Renamed += OnFileEvent;
            _watcher.Deleted += OnFileEvent;
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException)
        {
            LogWatcherUnavailable(_logger, directory, ex.Message);
        }

        _pollTimer = _time.CreateTimer(_ => Reload(), null, _pollInterval, _pollInterval);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _debounceTimer?.Dispose();
        _pollTimer?.Dispose();
    }

    private void OnFileEvent(object sender, FileSystemEventArgs e) =>
        _debounceTimer?.Change(Debounce, Timeout.InfiniteTimeSpan);

    private static (GatewayConfigParseResult Result, byte[] Hash) Read(string path, TimeSpan? sessionTtlOverride, IReadOnlyList<IGatewayConfigValidator> validators)
    {
        string text;
        try
        {
            var length = new FileInfo(path).Length;
            if (length > GatewayConfigParser.MaxFileLength * 4L)
            {
                var error = new ConfigError(EnvironmentVariables.ConfigPath, $"'{path}' is {length} bytes; the largest accepted is {GatewayConfigParser.MaxFileLength} characters");
                return (new GatewayConfigParseResult(null, [error]), SHA256.HashData(BitConverter.GetBytes(length)));
            }

            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException || (ex is IOException && !File.Exists(path)))
        {
            var error = new ConfigError(EnvironmentVariables.ConfigPath, $"cannot read '{path}': {ex.Message}");
            return (new GatewayConfigParseResult(null, [error]), SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ex.Message)));
        }

        var hash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text));
        var result = GatewayConfigParser.Parse(text, sessionTtlOverride);
        if (result.Config is { } config && validators.Count > 0)
        {
            var errors = Validate(config, validators);
            if (errors.Count > 0)
            {
                result = new GatewayConfigParseResult(null, errors);
            }
        }

        return (result, hash);
    }

    [LoggerMessage(EventId = LogEvents.ConfigReloaded, Level = LogLevel.Information, Message = "Configuration reloaded from {Path}: {RouteCount} routes, {UpstreamCount} upstreams")]
    private static partial void LogReloaded(ILogger logger, string path, int routeCount, int upstreamCount);

    [LoggerMessage(EventId = LogEvents.ConfigReloadRejected, Level = LogLevel.Error, Message = "Configuration change in {Path} rejected with {ErrorCount} errors; the last good configuration keeps serving")]
    private static partial void LogReloadRejected(ILogger logger, string path, int errorCount);

    [LoggerMessage(EventId = LogEvents.ConfigError, Level = LogLevel.Error, Message = "Configuration error: {ConfigError}")]
    private static partial void LogConfigError(ILogger logger, string configError);

    [LoggerMessage(EventId = LogEvents.ConfigReadFailed, Level = LogLevel.Warning, Message = "Could not read {Path}: {Reason}; keeping the last good configuration")]
    private static partial void LogReadFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = LogEvents.ConfigReloadFailed, Level = LogLevel.Error, Message = "Configuration change in {Path} could not be applied; the last good configuration keeps serving")]
    private static partial void LogReloadFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = LogEvents.ConfigWatcherUnavailable, Level = LogLevel.Warning, Message = "Cannot watch {Directory} ({Reason}); changes are picked up by polling only")]
    private static partial void LogWatcherUnavailable(ILogger logger, string directory, string reason);
}

/// <summary><c>gateway.yml</c> as read and parsed at start, before the services that validate it further exist.</summary>
public sealed record GatewayConfigFile(string Path, TimeSpan? SessionTtlOverride, GatewayConfig Config, byte[] Hash);
