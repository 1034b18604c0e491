using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Testing;

/// <summary>
/// Hands out loopback TCP ports for servers that a test starts (child processes, Redis, upstreams).
/// </summary>
/// <remarks>
/// A port the kernel picks for <c>bind(0)</c> comes from its ephemeral range, the same range every outgoing connection
/// draws its local port from. Between the check and the child's own bind, a test's HTTP or Redis client can take it,
/// and the child then fails with "address already in use". Ports here come from below the ephemeral range, which no
/// outgoing connection uses; each test process walks the range from its own random start, so the processes that run
/// side by side rarely ask for the same port, and the bind check skips the ones taken.
/// </remarks>
public static class FreePort
{
    private const int RangeStart = 10_000;
    private static readonly Lock Gate = new();
    private static readonly int RangeEnd = EphemeralRangeStart();
    private static int _next = RangeStart + Random.Shared.Next(RangeEnd - RangeStart);

    /// <summary>A loopback TCP port that was free a moment ago and that this process has not handed out before.</summary>
    public static int Next()
    {
        lock (Gate)
        {
            for (var tried = 0; tried < RangeEnd - RangeStart; tried++)
            {
                var port = _next;
                _next = _next + 1 >= RangeEnd ? RangeStart : _next + 1;
                if (IsFree(port))
                {
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"No free loopback port between {RangeStart} and {RangeEnd}.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The first port of the kernel's ephemeral range (32768 unless the machine changed it).</summary>
    private static int EphemeralRangeStart()
    {
        const string RangeFile = "/proc/sys/net/ipv4/ip_local_port_range";
        var low = 32_768;
        if (File.Exists(RangeFile))
        {
            var first = File.ReadAllText(RangeFile).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            if (int.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
            {
                low = parsed;
            }
        }

        // A machine whose ephemeral range starts very low leaves no room below it: use the range above 10000 anyway.
        return low > RangeStart + 1_000 ? low : 32_768;
    }
}
