namespace Gateway.Grains.Contracts;

/// <summary>
/// A stateless grain that answers at once: readiness checks call it to prove that the grain cluster answers.
/// </summary>
[Alias("gateway.cluster-probe")]
public interface IClusterProbeGrain : IGrainWithIntegerKey
{
    /// <summary>Returns the address of the silo that answered.</summary>
    [Alias("ping")]
    Task<string> PingAsync();
}
