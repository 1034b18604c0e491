namespace Gateway.Edge.RateLimiting;

/// <summary>
/// How many exact-mode calls this edge has in flight at once to shards that answer: at most <see cref="MaxCallsInFlight"/>.
/// With one call in flight per shard and many clients, every shard's lane sent its own small call (1.8-2.0 decisions per
/// call at 10,000 clients), and the silo pays its per-message cost once per call. A lane that finds every slot taken keeps
/// its requests queued and is handed the next slot that frees (oldest first), so the calls carry more decisions each.
/// A slot is freed when its call answers or fails, or one budget after it was sent (a slow or frozen shard holds none
/// longer); calls to a shard that counts as silent (<see cref="ExactLane.Answering"/> false) take no slot at all.
/// </summary>
internal sealed class ExactCallSlots(int max, Action<ExactLane, CallSlot> start)
{
    /// <summary>Calls to answering shards in flight at once, per edge.</summary>
    public const int MaxCallsInFlight = 4;

    private readonly Lock _gate = new();
    private readonly Queue<ExactLane> _waiting = new();
    private int _used;

    /// <summary>A slot for a call of <paramref name="lane"/> now, or null when every slot is taken.</summary>
    public CallSlot? TryTake(ExactLane lane)
    {
        if (!Volatile.Read(ref lane.Answering))
        {
            return CallSlot.Uncounted;
        }

        lock (_gate)
        {
            if (_used >= max)
            {
                return null;
            }

            _used++;
        }

        return new CallSlot(this);
    }

    /// <summary>Starts <paramref name="lane"/>'s next call with a slot: now if one is free, else when one frees.</summary>
    public void WaitFor(ExactLane lane)
    {
        var slot = TryTake(lane);
        if (slot is null)
        {
            lock (_gate)
            {
                if (_used >= max)
                {
                    _waiting.Enqueue(lane);
                    return;
                }

                _used++;
            }

            slot = new CallSlot(this);
        }

        start(lane, slot);
    }

    /// <summary>A slot freed: handed to the lane that has waited longest, if any.</summary>
    internal void Free()
    {
        ExactLane? next;
        lock (_gate)
        {
            if (!_waiting.TryDequeue(out next))
            {
                _used--;
                return;
            }
        }

        start(next, new CallSlot(this));
    }
}

/// <summary>One call's slot (<see cref="ExactCallSlots"/>); freed once, however many times <see cref="Release"/> is called.</summary>
internal sealed class CallSlot(ExactCallSlots? owner)
{
    /// <summary>The slot of a call to a silent shard: it counts against nothing.</summary>
    public static readonly CallSlot Uncounted = new(null);

    private int _released;

    public void Release()
    {
        if (owner is not null && Interlocked.Exchange(ref _released, 1) == 0)
        {
            owner.Free();
        }
    }
}
