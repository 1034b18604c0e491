using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Testing;

namespace Gateway.Benchmarks;

/// <summary>
/// What a session check adds to a proxied request: one silo and one edge as processes over a real redis-server, the
/// same upstream behind a route without sessions (the baseline) and a route that requires one, each request timed on
/// its own and paired with a baseline request made just before it. Cached: one token over and over (the edge keeps the
/// grain's answer for 500 ms). Uncached: ten tokens in turn, paced so that each one's cached answer has expired, so every
/// request asks its session grain.
/// </summary>
internal static class SessionRun
{
    private const int Sequential = 5_000;
    private const int Uncached = 600;
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(55);

    public static async Task<int> RunAsync()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var cluster = await LocalCluster.StartAsync(
            $$"""
            upstreams: { app: { destinations: ["{{upstream.Address}}"] } }
            routes:
              - { id: public, path: "/api/public/{**rest}", upstream: app, auth: none, ratelimit: off }
              - { id: private, path: "/api/private/{**rest}", upstream: app, auth: required, ratelimit: off }
            session:
              cookie: gw_bench
              secure_cookie: false
              login: { upstream: app, path: /auth/verify }
            """,
            silos: 1,
            edges: 1);
        var http = cluster.Edges[0].Client;

        // Login attempts are limited (5 per user name at once): five sessions each for the two users the upstream knows.
        var tokens = new List<string>();
        foreach (var user in new[] { "alice", "bob" })
        {
            for (var i = 0; i < 5; i++)
            {
                using var login = await http.PostAsJsonAsync(new Uri("/auth/login", UriKind.Relative), new { username = user, password = user });
                login.EnsureSuccessStatusCode();
                using var body = JsonDocument.Parse(await login.Content.ReadAsStringAsync());
                tokens.Add(body.RootElement.GetProperty("token").GetString()!);
            }
        }

        for (var i = 0; i < 2_000; i++)
        {
            await GetAsync(http, "/api/public/warm", null);
            await GetAsync(http, "/api/private/warm", tokens[i % tokens.Count]);
        }

        // Each pair alternates the baseline with the measured request, so drift (tiering, other processes) hits both.
        Console.WriteLine(FormattableString.Invariant($"== session check, edge + silo processes over redis-server, {Sequential} pairs back to back, every request timed =="));
        var (baseline, cached) = await PairsAsync(Sequential, TimeSpan.Zero, _ => GetAsync(http, "/api/public/x", null), _ => GetAsync(http, "/api/private/x", tokens[0]));
        Print("no session (baseline)", baseline, baseline);
        Print("session cached on the edge", cached, baseline);

        // Each token comes round again after ten pairs (10 x 55 ms), when its cached answer (500 ms) has expired.
        Console.WriteLine(FormattableString.Invariant($"== {Uncached} pairs, one every {Pace.TotalMilliseconds} ms, ten tokens in turn =="));
        var (pacedBaseline, uncached) = await PairsAsync(Uncached, Pace, _ => GetAsync(http, "/api/public/x", null), i => GetAsync(http, "/api/private/x", tokens[i % tokens.Count]));
        Print("no session (baseline)", pacedBaseline, pacedBaseline);
        Print("session asked of its grain", uncached, pacedBaseline);
        return 0;
    }

    private static async Task GetAsync(HttpClient http, string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>p50 and p99 in microseconds of each of two calls made in turn, each timed alone; a pair starts every <paramref name="pace"/>.</summary>
    internal static async Task<(double[] First, double[] Second)> PairsAsync(int count, TimeSpan pace, Func<int, Task> first, Func<int, Task> second)
    {
        var a = new double[count];
        var b = new double[count];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var due = pace * i;
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            var start = Stopwatch.GetTimestamp();
            await first(i);
            a[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            start = Stopwatch.GetTimestamp();
            await second(i);
            b[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(a);
        Array.Sort(b);
        return ([a[count / 2], a[(int)(count * 0.99)]], [b[count / 2], b[(int)(count * 0.99)]]);
    }

    internal static void Print(string what, double[] micros, double[] baseline) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: p50 {micros[0] / 1000:F3} ms, p99 {micros[1] / 1000:F3} ms; added to the baseline: p50 {(micros[0] - baseline[0]) / 1000:+0.000;-0.000} ms, p99 {(micros[1] - baseline[1]) / 1000:+0.000;-0.000} ms"));
}
