namespace Gateway.Edge.Observability;

/// <summary>Per-request facts other features fill in and the access log reads.</summary>
internal static class RequestContext
{
    private const string ClientKey = "gateway.client";
    private const string UserIdKey = "gateway.user_id";

    /// <summary>The client address as resolved against <c>trusted_proxies</c>; the TCP peer until something resolves it.</summary>
    public static string ClientAddress(HttpContext context) =>
        context.Items[ClientKey] as string ?? context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    public static void SetClientAddress(HttpContext context, string address) => context.Items[ClientKey] = address;

    public static string? UserId(HttpContext context) => context.Items[UserIdKey] as string;

    public static void SetUserId(HttpContext context, string userId) => context.Items[UserIdKey] = userId;
}
