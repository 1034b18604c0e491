using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Faults;

/// <summary>
/// Sends the key flood: every request a client key never sent before, spread over every edge. With <c>wrk</c> on the PATH
/// it runs one wrk process per edge (one thread, <see cref="WrkConnections"/> connections, <c>flood.lua</c>, paced so
/// the keys go out evenly over the time given, as "100k keys in 60 s" says, not as fast as the edges answer): an
/// HttpClient loop costs the shared 2-core machine more CPU per request than the edges do, and reached only about
/// 570 keys a second. Without wrk it falls back to <see cref="ClientLoops"/> HttpClient loops.
/// </summary>
internal sealed partial class FloodDriver
{
    private const int WrkConnections = 48;
    private const int ClientLoops = 96;

    /// <summary>How much longer than its limit a paced wrk may run before it stops with the keys it reached.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(15);

    private FloodDriver(Task<(int Keys, int Failed)> completion, string description)
    {
        Completion = completion;
        Description = description;
    }

    /// <summary>Keys sent and requests failed (no answer, or any status but 200 and 429) once the flood ends.</summary>
    public Task<(int Keys, int Failed)> Completion { get; }

    public string Description { get; }

    /// <summary>Sends keys number <paramref name="firstKey"/> to <paramref name="firstKey"/> + <paramref name="keys"/> - 1.</summary>
    public static FloodDriver Start(FaultCluster cluster, LoadDriver load, int keys, TimeSpan limit, int firstKey)
    {
        var wrk = FindOnPath("wrk");
        var edges = cluster.LiveEdges.ToList();
        return wrk is null
            ? new FloodDriver(ClientLoopsAsync(load, keys, limit, firstKey), $"{ClientLoops} HttpClient connections")
            : new FloodDriver(WrkAsync(wrk, edges, keys, limit, firstKey), $"wrk paced to {keys / limit.TotalSeconds:0}/s, {WrkConnections} connections per edge");
    }

    private static async Task<(int Keys, int Failed)> WrkAsync(string wrk, List<EdgeNode> edges, int keys, TimeSpan limit, int firstKey)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "flood.lua");
        var share = (keys + edges.Count - 1) / edges.Count;
        var runs = edges.Select((edge, i) => RunWrkAsync(wrk, script, edge.Client.BaseAddress!, firstKey - 1 + (i * share), Math.Min(share, keys - (i * share)), limit));
        var results = await Task.WhenAll(runs);
        return (results.Sum(r => r.Keys), results.Sum(r => r.Failed));
    }

    private static async Task<(int Keys, int Failed)> RunWrkAsync(string wrk, string script, Uri edge, int first, int count, TimeSpan limit)
    {
        var info = new ProcessStartInfo(wrk)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // Paced at count / limit per second; -d is only the upper bound (wrk waits out its -d even when every thread has
        // stopped, so the driver ends it once the thread's line says the last key was answered).
        var rate = count / limit.TotalSeconds;
        foreach (var argument in new[]
        {
            "-t1", $"-c{WrkConnections}", $"-d{(int)(limit + Grace).TotalSeconds}s", "--timeout", "10s", "-s", script,
            new Uri(edge, "/api/flood/x").ToString(), "--", first.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture),
            rate.ToString("0.###", CultureInfo.InvariantCulture),
        })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("wrk did not start");
        using var timeout = new CancellationTokenSource(limit + Grace + TimeSpan.FromSeconds(30));
        try
        {
            var output = new StringBuilder();
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                output.AppendLine(line);
                var match = Summary().Match(line);
                if (match.Success)
                {
                    return (int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
                }
            }

            throw new InvalidOperationException($"wrk printed no summary: {output} {await process.StandardError.ReadToEndAsync(CancellationToken.None)}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    private static async Task<(int Keys, int Failed)> ClientLoopsAsync(LoadDriver load, int keys, TimeSpan limit, int firstKey)
    {
        var sent = 0;
        var failed = 0;
        using var stop = new CancellationTokenSource(limit);
        await Task.WhenAll(Enumerable.Range(0, ClientLoops).Select(async _ =>
        {
            int number;
            while (!stop.IsCancellationRequested && (number = Interlocked.Increment(ref sent)) <= keys)
            {
                var key = firstKey - 1 + number;
                var outcome = await load.SendAsync("/api/flood/x", $"100.{64 + (key >> 16)}.{(key >> 8) & 255}.{key & 255}", false, CancellationToken.None);
                if (outcome.Failed)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }));
        return (Math.Min(sent, keys), failed);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);

    [GeneratedRegex(@"flood: keys=(\d+) answered=\d+ failed=(\d+)")]
    private static partial Regex Summary();
}
