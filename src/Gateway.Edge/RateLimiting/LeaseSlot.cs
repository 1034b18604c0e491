namespace Gateway.Edge.RateLimiting;

/// <summary>
/// One edge's leased tokens for one bucket (fast mode). Tokens are spent only before their lease expires
/// (<see cref="Gateway.Grains.Contracts.RateLimitRate.MaxLeaseTicks"/> after it was asked for), oldest lease first; unused
/// tokens go back to the grain with the next lease request while they are young enough. Guarded by <see cref="Gate"/>.
/// </summary>
internal sealed class LeaseSlot(string bucket)
{
    public Lock Gate { get; } = new();

    /// <summary>The name of the bucket this slot spends leases of.</summary>
    public string Bucket { get; } = bucket;

    /// <summary>The shard that holds the bucket.</summary>
    public int Shard { get; } = Gateway.Grains.Contracts.RateLimitKeys.Shard(bucket);

    /// <summary>The lease being spent.</summary>
    public Lease Active;

    /// <summary>A fresh lease that arrived while <see cref="Active"/> still had valid tokens.</summary>
    public Lease Next;

    /// <summary>Expired unused tokens to give back, and when the oldest of them was asked for.</summary>
    public long ReturnTokens;

    public long ReturnTakenAt;

    /// <summary>The lease request in flight, if any.</summary>
    public Task<bool>? Refill;

    /// <summary>No lease is worth asking for before this (the bucket is empty); edge clock ticks.</summary>
    public long DenyUntil;

    /// <summary>Tokens left in the grain's bucket when it last answered.</summary>
    public long GrainRemaining;

    /// <summary>Tokens the last lease carried; a refill starts when the active lease falls to half of it.</summary>
    public long LastGrant;

    /// <summary>Requests admitted here since the last lease request, and when that was: the observed rate.</summary>
    public long UsedSinceLease;

    public long LastLeaseAt;

    /// <summary>Requests per tick, smoothed over lease requests.</summary>
    public double ObservedRate;

    public long LastUse;

    /// <summary>
    /// Requests this edge admitted on its local bucket while the grain did not answer, not yet paid for: paid out of
    /// tokens this edge holds (already taken from the grain) before any of them admits a request.
    /// </summary>
    public long Debt;

    /// <summary>Takes one leased token if a lease is valid at <paramref name="now"/>.</summary>
    public bool TryTake(long now)
    {
        if (Active.Tokens <= 0 || now >= Active.ExpiresAt)
        {
            Retire(ref Active);
            if (Next.Tokens > 0 && now < Next.ExpiresAt)
            {
                Active = Next;
                Next = default;
            }
            else
            {
                Retire(ref Next);
                return false;
            }
        }

        Active.Tokens--;
        UsedSinceLease++;
        return true;
    }

    /// <summary>Pays <see cref="Debt"/> out of the tokens held: valid leases first, then expired ones due back to the grain.</summary>
    public void PayDebt(long now)
    {
        Pay(ref Active, now);
        Pay(ref Next, now);
        var paid = Math.Min(Debt, ReturnTokens);
        ReturnTokens -= paid;
        Debt -= paid;
    }

    /// <summary>Tokens this edge still holds.</summary>
    public long Held(long now) =>
        (now < Active.ExpiresAt ? Active.Tokens : 0) + (now < Next.ExpiresAt ? Next.Tokens : 0);

    /// <summary>Files a new lease: it becomes active unless the active one still has valid tokens.</summary>
    public void Add(Lease lease, long now)
    {
        if (lease.Tokens <= 0)
        {
            return;
        }

        if (Active.Tokens > 0 && now < Active.ExpiresAt)
        {
            Retire(ref Next);
            Next = lease;
        }
        else
        {
            Retire(ref Active);
            Active = lease;
        }
    }

    private void Pay(ref Lease lease, long now)
    {
        if (Debt > 0 && lease.Tokens > 0 && now < lease.ExpiresAt)
        {
            var paid = Math.Min(Debt, lease.Tokens);
            lease.Tokens -= paid;
            Debt -= paid;
        }
    }

    /// <summary>Moves expired tokens of <paramref name="lease"/> to the return pile.</summary>
    private void Retire(ref Lease lease)
    {
        if (lease.Tokens > 0)
        {
            ReturnTakenAt = ReturnTokens > 0 ? Math.Min(ReturnTakenAt, lease.TakenAt) : lease.TakenAt;
            ReturnTokens += lease.Tokens;
        }

        lease = default;
    }
}

/// <summary>Leased tokens: how many are left, until when they may be spent, and when they were asked for (edge clock ticks).</summary>
internal struct Lease
{
    public long Tokens;
    public long ExpiresAt;
    public long TakenAt;
}
