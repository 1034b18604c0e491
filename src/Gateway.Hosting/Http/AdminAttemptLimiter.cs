using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting.Http;

/// <summary>
/// Failed <c>ADMIN_TOKEN</c> attempts per client address in a sliding window: after <see cref="MaxFailures"/> failures
/// within <see cref="Window"/>, the address is refused (even with the right token) until the oldest of them leaves the window.
/// IPv6 addresses count per /64. The table holds at most <see cref="MaxClients"/> addresses.
/// </summary>
public sealed partial class AdminAttemptLimiter(TimeProvider time, Func<HttpContext, string> clientAddress, ILogger<AdminAttemptLimiter> logger)
{
    public const int MaxFailures = 10;
    public const int MaxClients = 10_000;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, Failures> _clients = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>How many addresses the table holds.</summary>
    internal int Count
    {
        get
        {
            lock (_lock)
            {
                return _clients.Count;
            }
        }
    }

    /// <summary>The client address of the TCP peer (the silo has no proxies to see through).</summary>
    public static string TcpPeer(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>
    /// Decides one admin attempt whose token check gave <paramref name="authorized"/>: the time the request's client must
    /// still wait if it is refused (the attempt is then not counted), else null, counting the attempt if it failed. One
    /// locked step, so that parallel guesses cannot all slip past the check before their failures are counted.
    /// </summary>
    public TimeSpan? Attempt(HttpContext context, bool authorized)
    {
        var key = Key(context);
        var now = time.GetUtcNow();
        lock (_lock)
        {
            _clients.TryGetValue(key, out var failures);
            if (failures?.BlockedFor(now) is { } wait)
            {
                return wait;
            }

            if (authorized)
            {
                return null;
            }

            if (failures is null)
            {
                if (_clients.Count >= MaxClients)
                {
                    MakeRoom(now);
                }

                failures = new Failures();
                _clients[key] = failures;
            }

            failures.Add(now);
            if (failures.BlockedFor(now) is { } blocked)
            {
                LogBlocked(logger, key, MaxFailures, (int)Window.TotalSeconds, Math.Ceiling(blocked.TotalSeconds));
            }

            return null;
        }
    }

    /// <summary>Drops addresses with no failure in the window; when none is stale, the one whose last failure is oldest.</summary>
    private void MakeRoom(DateTimeOffset now)
    {
        string? oldest = null;
        var oldestAt = DateTimeOffset.MaxValue;
        foreach (var (key, failures) in _clients)
        {
            if (failures.IsStale(now))
            {
                _clients.Remove(key);
            }
            else if (failures.Last < oldestAt)
            {
                oldest = key;
                oldestAt = failures.Last;
            }
        }

        if (_clients.Count >= MaxClients && oldest is not null)
        {
            _clients.Remove(oldest);
        }
    }

    private string Key(HttpContext context)
    {
        var address = clientAddress(context);
        if (!IPAddress.TryParse(address, out var ip))
        {
            return address;
        }

        if (ip.IsIPv4MappedToIPv6)
        {
            return ip.MapToIPv4().ToString();
        }

        if (ip.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return ip.ToString();
        }

        // One IPv6 client usually holds a whole /64.
        var bytes = ip.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>The times of a client's last <see cref="MaxFailures"/> failures, oldest first (a ring).</summary>
    private sealed class Failures
    {
        private readonly DateTimeOffset[] _times = new DateTimeOffset[MaxFailures];
        private int _count;
        private int _next;

        public DateTimeOffset Last => _times[(_next + MaxFailures - 1) % MaxFailures];

        public void Add(DateTimeOffset now)
        {
            _times[_next] = now;
            _next = (_next + 1) % MaxFailures;
            _count = Math.Min(_count + 1, MaxFailures);
        }

        /// <summary>Until the oldest of <see cref="MaxFailures"/> failures within the window leaves it; null if fewer.</summary>
        public TimeSpan? BlockedFor(DateTimeOffset now)
        {
            if (_count < MaxFailures)
            {
                return null;
            }

            var oldest = _times[_next];
            var until = oldest + Window;
            return until > now ? until - now : null;
        }

        public bool IsStale(DateTimeOffset now) => _count == 0 || Last + Window <= now;
    }

    [LoggerMessage(EventId = LogEvents.AdminAttemptsBlocked, Level = LogLevel.Warning, Message = "Admin access: {Failures} failed attempts within {WindowSeconds}s from {Client}; it is refused for {RetryAfterSeconds}s")]
    private static partial void LogBlocked(ILogger logger, string client, int failures, int windowSeconds, double retryAfterSeconds);
}
