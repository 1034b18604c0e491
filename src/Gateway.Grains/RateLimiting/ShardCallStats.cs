using System.Diagnostics.Metrics;

namespace Gateway.Grains.RateLimiting;

/// <summary>
/// Counts the exact-mode calls the shards of this silo answered and the decisions they carried (their ratio is the mean
/// batch), for the benchmark and profiling. The meter is not exported to <c>/metrics</c> (not part of the contract);
/// read it with <c>dotnet-counters monitor --counters Gateway.RateLimit.Shards -p &lt;silo pid&gt;</c>.
/// </summary>
internal static class ShardCallStats
{
    public const string MeterName = "Gateway.RateLimit.Shards";

    private static readonly Meter Meter = new(MeterName);
    private static long _calls;
    private static long _decisions;

    static ShardCallStats()
    {
        Meter.CreateObservableCounter("exact-calls", () => Volatile.Read(ref _calls), description: "Exact-mode shard calls answered.");
        Meter.CreateObservableCounter("exact-decisions", () => Volatile.Read(ref _decisions), description: "Exact-mode decisions those calls carried.");
    }

    /// <summary>One call answered, carrying <paramref name="decisions"/> decisions.</summary>
    public static void Answered(long decisions)
    {
        Interlocked.Increment(ref _calls);
        Interlocked.Add(ref _decisions, decisions);
    }
}
