namespace Gateway.Grains.Contracts;

/// <summary>
/// The edges that are alive, as they report themselves: each edge heartbeats every <see cref="EdgeRegistry.HeartbeatInterval"/>
/// and is forgotten after <see cref="EdgeRegistry.Expiry"/> without one. Edges divide a policy by the live count when they
/// decide on local buckets (<c>on_backend_failure: local</c>). One activation, key <see cref="EdgeRegistry.Key"/>.
/// </summary>
[Alias("gateway.edge-registry")]
public interface IEdgeRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Records that <paramref name="edgeId"/> is alive and answers how many edges are, and where this one ranks.</summary>
    [Alias("heartbeat")]
    [ResponseTimeout("00:00:02")]
    ValueTask<EdgeRegistration> HeartbeatAsync(string edgeId);

    /// <summary>Forgets <paramref name="edgeId"/> at once (an edge that stops on purpose).</summary>
    [Alias("leave")]
    [ResponseTimeout("00:00:02")]
    ValueTask LeaveAsync(string edgeId);
}

/// <summary>
/// <paramref name="LiveEdges"/> edges heartbeated within the expiry (at least 1, the caller); the caller is number
/// <paramref name="Rank"/> (0-based) of them in ordinal order of their ids. <paramref name="Settled"/> is false while the
/// registry is younger than one expiry, when edges that are alive may not have reported yet: a count that is lower than
/// what the edge knew is then not to be believed. <paramref name="Joining"/> is true while the caller joined a settled
/// registry less than <see cref="EdgeRegistry.JoinDelay"/> ago: the other edges may not have heard of it yet and still
/// divide the policy without it, so it holds no share until then.
/// </summary>
[GenerateSerializer, Immutable, Alias("gateway.edge-registry.registration")]
public sealed record EdgeRegistration(
    [property: Id(0)] int LiveEdges,
    [property: Id(1)] int Rank,
    [property: Id(2)] bool Settled,
    [property: Id(3)] bool Joining = false);

/// <summary>The registry's key and timings.</summary>
public static class EdgeRegistry
{
    /// <summary>The one registry grain's key.</summary>
    public const long Key = 0;

    /// <summary>How often an edge reports itself.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often an edge reports itself while its view may be out of date: before its first answer, after a failed
    /// heartbeat, while the registry is unsettled or the edge is joining, and right after the count or its rank changed.
    /// </summary>
    public static readonly TimeSpan FastHeartbeatInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long a new edge holds no share: one heartbeat of every other edge, with room for a slow one (<see cref="EdgeRegistration.Joining"/>).</summary>
    public static readonly TimeSpan JoinDelay = TimeSpan.FromSeconds(8);

    /// <summary>An edge not heard from for this long is no longer counted (three missed heartbeats).</summary>
    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(15);
}
