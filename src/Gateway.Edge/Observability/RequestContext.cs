namespace Gateway.Edge.Observability;

/// <summary>Per-request facts that one feature fills in and others read (client address, session identity).</summary>
internal static class RequestContext
{
    private const string ClientKey = "gateway.client";
    private const string UserIdKey = "gateway.user_id";
    private const string TierKey = "gateway.tier";

    /// <summary>The client address as resolved against <c>trusted_proxies</c>; the TCP peer until something resolves it.</summary>
    public static string ClientAddress(HttpContext context) =>
        context.Items[ClientKey] as string ?? context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    public static void SetClientAddress(HttpContext context, string address) => context.Items[ClientKey] = address;

    /// <summary>The user id of the request's valid session, or null.</summary>
    public static string? UserId(HttpContext context) => context.Items[UserIdKey] as string;

    /// <summary>The tier of the request's valid session (selects <c>ratelimit.tiers</c>), or null.</summary>
    public static string? Tier(HttpContext context) => context.Items[TierKey] as string;

    /// <summary>Set by the session check once a request carries a valid session.</summary>
    public static void SetSession(HttpContext context, string userId, string? tier)
    {
        context.Items[UserIdKey] = userId;
        context.Items[TierKey] = tier;
    }
}
