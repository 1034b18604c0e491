using System.Runtime.InteropServices;
using Gateway.Hosting.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting.Health;

/// <summary>
/// Replaces the console lifetime: SIGTERM first fails readiness and keeps serving for the drain delay
/// (so Kubernetes and load balancers stop sending traffic), then stops the host gracefully. SIGINT and SIGQUIT stop at once;
/// a second SIGTERM cuts the drain short.
/// </summary>
public sealed partial class DrainingHostLifetime(
    IHostApplicationLifetime lifetime,
    ShutdownDrain drain,
    HostSettings settings,
    TimeProvider time,
    ILogger<DrainingHostLifetime> logger) : IHostLifetime, IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = [];
    private ITimer? _timer;

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnTerminate));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, OnStopNow));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnStopNow));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _timer?.Dispose();
    }

    private void OnTerminate(PosixSignalContext context)
    {
        context.Cancel = true;
        if (drain.IsDraining || settings.DrainDelay <= TimeSpan.Zero)
        {
            drain.Begin();
            lifetime.StopApplication();
            return;
        }

        drain.Begin();
        LogDraining(logger, settings.DrainDelay.TotalSeconds);
        _timer = time.CreateTimer(_ => lifetime.StopApplication(), null, settings.DrainDelay, Timeout.InfiniteTimeSpan);
    }

    private void OnStopNow(PosixSignalContext context)
    {
        context.Cancel = true;
        drain.Begin();
        lifetime.StopApplication();
    }

    [LoggerMessage(EventId = LogEvents.ShutdownDraining, Level = LogLevel.Warning, Message = "SIGTERM received: readiness now fails; serving for {DrainSeconds}s more, then stopping")]
    private static partial void LogDraining(ILogger logger, double drainSeconds);
}
