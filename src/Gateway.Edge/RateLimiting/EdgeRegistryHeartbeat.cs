using Gateway.Grains.Contracts;

namespace Gateway.Edge.RateLimiting;

/// <summary>
/// Reports this edge to the registry grain every <see cref="EdgeRegistry.HeartbeatInterval"/> and keeps
/// <see cref="EdgeShare"/> up to date; leaves the registry when the edge stops. A registry that does not answer leaves the
/// last known count in place. While the view may be out of date (no answer yet, a failed heartbeat, an unsettled registry,
/// this edge joining, or a count or rank that just changed) it reports every <see cref="EdgeRegistry.FastHeartbeatInterval"/>,
/// so edges that start or restart together agree on the count within about a second of reaching the registry.
/// </summary>
internal sealed partial class EdgeRegistryHeartbeat(IGrainFactory grains, EdgeShare share, TimeProvider time, ILogger<EdgeRegistryHeartbeat> logger) : BackgroundService
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);

    /// <summary>This process's id in the registry.</summary>
    public string EdgeId { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>One heartbeat; how long until the next (<see cref="EdgeRegistry.FastHeartbeatInterval"/> while the view may be out of date).</summary>
    public async Task<TimeSpan> BeatAsync(CancellationToken cancellationToken)
    {
        try
        {
            var registration = await grains.GetGrain<IEdgeRegistryGrain>(EdgeRegistry.Key).HeartbeatAsync(EdgeId).AsTask()
                .WaitAsync(CallTimeout, time, cancellationToken);
            var changed = share.Update(registration.LiveEdges, registration.Rank, registration.Settled, registration.Joining);
            return changed || !registration.Settled || registration.Joining ? EdgeRegistry.FastHeartbeatInterval : EdgeRegistry.HeartbeatInterval;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogHeartbeatFailed(logger, ex);
            return EdgeRegistry.FastHeartbeatInterval;
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
        try
        {
            while (true)
            {
                await Task.Delay(await BeatAsync(stoppingToken), time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The edge stops; StopAsync leaves the registry.
        }
    }

    [LoggerMessage(EventId = LogEvents.EdgeHeartbeatFailed, Level = LogLevel.Debug, Message = "Edge registry heartbeat failed")]
    private static partial void LogHeartbeatFailed(ILogger logger, Exception exception);
}
