namespace Gateway.Edge.RateLimiting;

/// <summary>
/// This edge's place among the live edges, as the registry grain last said: <see cref="LiveEdges"/> edges, this one number
/// <see cref="Rank"/>. One edge (rank 0) until the registry has answered.
/// </summary>
internal sealed class EdgeShare
{
    private volatile View _view = new(1, 0);

    public int LiveEdges => _view.LiveEdges;

    public int Rank => _view.Rank;

    /// <summary>
    /// Takes the registry's answer. A lower count from an unsettled registry (one that may not have heard from every
    /// edge yet) is not believed: it would widen each edge's share beyond the policy.
    /// </summary>
    public void Update(int liveEdges, int rank, bool settled)
    {
        liveEdges = Math.Max(1, liveEdges);
        var current = _view;
        if (!settled && liveEdges < current.LiveEdges)
        {
            return;
        }

        _view = new View(liveEdges, Math.Clamp(rank, 0, liveEdges - 1));
    }

    /// <summary>
    /// This edge's part of <paramref name="burst"/> for one bucket: the burst divided by the live edges, the remainder going
    /// to the edges whose rank, turned by <paramref name="keyHash"/>, is below it, so the parts add up to the burst exactly
    /// (an edge's part is 0 when the burst is smaller than the number of edges and the remainder does not reach it).
    /// </summary>
    public static long BurstShare(long burst, int liveEdges, int rank, uint keyHash)
    {
        var slot = (int)((rank + keyHash) % (uint)liveEdges);
        return (burst / liveEdges) + (slot < burst % liveEdges ? 1 : 0);
    }

    private sealed record View(int LiveEdges, int Rank);
}
