using Gateway.Grains.Contracts;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// Reports this edge to the registry grain every <see cref="EdgeRegistry.HeartbeatInterval"/> and keeps
/// <see cref="EdgeShare"/> up to date; leaves the registry when the edge stops. A registry that does not answer leaves the
/// last known count in place.
/// </summary>
internal sealed partial class EdgeRegistryHeartbeat(IGrainFactory grains, EdgeShare share, TimeProvider time, ILogger<EdgeRegistryHeartbeat> logger) : BackgroundService
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);

    /// <summary>This process's id in the registry.</summary>
    public string EdgeId { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>One heartbeat; false when the registry did not answer.</summary>
    public async Task<bool> BeatAsync(CancellationToken cancellationToken)
    {
        try
        {
            var registration = await grains.GetGrain<IEdgeRegistryGrain>(EdgeRegistry.Key).HeartbeatAsync(EdgeId).AsTask()
                .WaitAsync(CallTimeout, time, cancellationToken);
            share.Update(registration.LiveEdges, registration.Rank, registration.Settled);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogHeartbeatFailed(logger, ex);
            return false;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await grains.GetGrain<IEdgeRegistryGrain>(EdgeRegistry.Key).LeaveAsync(EdgeId).AsTask().WaitAsync(CallTimeout, time, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogHeartbeatFailed(logger, ex);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(EdgeRegistry.HeartbeatInterval, time);
        do
        {
            await BeatAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = LogEvents.EdgeHeartbeatFailed, Level = LogLevel.Debug, Message = "Edge registry heartbeat failed")]
    private static partial void LogHeartbeatFailed(ILogger logger, Exception exception);
}
