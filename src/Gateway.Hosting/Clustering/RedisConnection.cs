using StackExchange.Redis;

namespace Gateway.Hosting.Clustering;

/// <summary>
/// The process's single Redis multiplexer. It is created without waiting for Redis
/// (<c>abortConnect=false</c>), so the process starts while Redis is down and reconnects by itself.
/// </summary>
public sealed class RedisConnection : IDisposable
{
    private readonly Lazy<ConnectionMultiplexer> _multiplexer;

    public RedisConnection(ConfigurationOptions options)
    {
        Options = options;
        _multiplexer = new Lazy<ConnectionMultiplexer>(() => ConnectionMultiplexer.Connect(options), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public ConfigurationOptions Options { get; }

    public IConnectionMultiplexer Multiplexer => _multiplexer.Value;

    /// <summary>For Orleans providers: the shared multiplexer, which they must not dispose.</summary>
    public Task<(IConnectionMultiplexer Multiplexer, bool IsShared)> GetSharedAsync() =>
        Task.FromResult<(IConnectionMultiplexer, bool)>((Multiplexer, true));

    public void Dispose()
    {
        if (_multiplexer.IsValueCreated)
        {
            _multiplexer.Value.Dispose();
        }
    }
}
