namespace Gateway.Edge.RateLimiting;

/// <summary>
/// This edge's place among the live edges, as the registry grain last said: <see cref="LiveEdges"/> edges, this one number
/// <see cref="Rank"/>, and whether it is still <see cref="Joining"/> (holding no share). One edge (rank 0) until the
/// registry has answered.
/// </summary>
internal sealed class EdgeShare
{
    private volatile View _view = new(1, 0, false);

    public int LiveEdges => _view.LiveEdges;

    public int Rank => _view.Rank;

    /// <summary>The other edges may not count this one yet: its share is nothing (<see cref="Gateway.Grains.Contracts.EdgeRegistration.Joining"/>).</summary>
    public bool Joining => _view.Joining;

    /// <summary>
    /// Takes the registry's answer; true when the count, the rank or <see cref="Joining"/> changed. A lower count from an
    /// unsettled registry (one that may not have heard from every edge yet) is not believed: it would widen each edge's
    /// share beyond the policy.
    /// </summary>
    public bool Update(int liveEdges, int rank, bool settled, bool joining = false)
    {
        liveEdges = Math.Max(1, liveEdges);
        var current = _view;
        if (!settled && liveEdges < current.LiveEdges)
        {
            return false;
        }

        var next = new View(liveEdges, Math.Clamp(rank, 0, liveEdges - 1), joining);
        _view = next;
        return next != current;
    }

    /// <summary>This edge's part of <paramref name="burst"/> for one bucket now: nothing while <see cref="Joining"/>, else <see cref="BurstShare(long, int, int, uint)"/>.</summary>
    public long BurstShare(long burst, uint keyHash)
    {
        var view = _view;
        return view.Joining ? 0 : BurstShare(burst, view.LiveEdges, view.Rank, keyHash);
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

    private sealed record View(int LiveEdges, int Rank, bool Joining);
}
