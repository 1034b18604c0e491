namespace Gateway.Hosting.Health;

/// <summary>Set when a SIGTERM arrives: readiness fails at once while the process keeps serving for the drain delay.</summary>
public sealed class ShutdownDrain
{
    private volatile bool _draining;

    public bool IsDraining => _draining;

    public void Begin() => _draining = true;
}
