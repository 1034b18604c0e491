namespace Gateway.Edge.RateLimiting;

/// <summary>A monotonic clock in 100 ns ticks since the limiter started, from the injected <see cref="TimeProvider"/>.</summary>
internal sealed class EdgeClock(TimeProvider time)
{
    private readonly long _origin = time.GetTimestamp();

    public TimeProvider Time => time;

    public long NowTicks => time.GetElapsedTime(_origin).Ticks;
}
