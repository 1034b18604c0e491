using Gateway.Hosting.Clustering;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace Gateway.Hosting.Observability;

/// <summary>
/// Feeds <c>gateway_redis_operation_duration_seconds{operation}</c> from StackExchange.Redis' own profiling of the
/// process's one multiplexer, so every command counts, whoever issues it: Orleans membership, session-state storage
/// and the gateway's own calls. One profiling session is always open; a loop drains its finished commands once a
/// <see cref="FlushInterval"/> and records each one's elapsed time under its command name (<c>hgetall</c>,
/// <c>evalsha</c>, ...): a bounded set, since the client only speaks the commands it knows.
/// </summary>
public sealed partial class RedisOperationMetrics(RedisConnection redis, GatewayMetrics metrics, TimeProvider time, ILogger<RedisOperationMetrics> logger) : BackgroundService
{
    /// <summary>How often the finished commands are recorded; commands wait in memory at most this long.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    /// <summary>The <c>operation</c> label of a command whose name is not a plain Redis command name.</summary>
    public const string OtherOperation = "other";

    private const int MaxOperationLength = 32;

    private readonly ProfilingSession _session = new();
    private int _registered;

    /// <summary>Starts profiling the multiplexer (connecting it if nothing has yet); safe to call more than once.</summary>
    public void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            redis.Multiplexer.RegisterProfiler(() => _session);
        }
    }

    /// <summary>Records every command that finished since the last flush; returns how many.</summary>
    public int Flush()
    {
        var count = 0;
        foreach (var command in _session.FinishProfiling())
        {
            metrics.RedisOperation(OperationName(command.Command), command.ElapsedTime.TotalSeconds);
            count++;
        }

        return count;
    }

    /// <summary>The command name in lower case, or <see cref="OtherOperation"/> when it is not a plain command name.</summary>
    public static string OperationName(string? command)
    {
        if (string.IsNullOrEmpty(command) || command.Length > MaxOperationLength)
        {
            return OtherOperation;
        }

        foreach (var c in command)
        {
            if (!char.IsAsciiLetter(c) && c != '_' && c != '.')
            {
                return OtherOperation;
            }
        }

        return command.ToLowerInvariant();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Connecting can block for the connect timeout: never on the thread that starts the host.
        await Task.Yield();
        try
        {
            Register();
        }
        catch (RedisException ex)
        {
            LogProfilingUnavailable(logger, ex);
            return;
        }

        using var timer = new PeriodicTimer(FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Flush();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
        finally
        {
            Flush();
        }
    }

    [LoggerMessage(EventId = LogEvents.RedisProfilingUnavailable, Level = LogLevel.Warning, Message = "Redis operations are not measured: the multiplexer could not be profiled")]
    private static partial void LogProfilingUnavailable(ILogger logger, Exception exception);
}
