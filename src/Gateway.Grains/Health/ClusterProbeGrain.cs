using Gateway.Grains.Contracts;
using Orleans.Concurrency;

namespace Gateway.Grains.Health;

[StatelessWorker]
internal sealed class ClusterProbeGrain : Grain, IClusterProbeGrain
{
    public Task<string> PingAsync() => Task.FromResult(RuntimeIdentity);
}
