using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Gateway.Faults;

/// <summary>
/// Steady load over every edge in rotation, as a load balancer would send it: several client loops, each a distinct
/// client (its own X-Forwarded-For), half of them with alice's session on an <c>auth: required</c> route; plus one hot
/// client hammering a limited route at three times its limit. An edge is in rotation while its <c>/health/ready</c>
/// answers 200 (polled every 250 ms with the k8s probe's 2 s timeout; out after 2 failed polls in a row, as the probe's
/// failureThreshold says); a request whose connection is refused is sent once more to the next edge, as a balancer
/// retries a connect failure. Every answer but 200 and 429 counts as failed.
/// </summary>
public sealed class LoadDriver : IAsyncDisposable
{
    private readonly FaultCluster _cluster;
    private readonly string? _sessionToken;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Outcome> _outcomes = [];
    private readonly ConcurrentBag<double> _hotAdmittedAt = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<Task> _loops = [];
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30) }) { Timeout = TimeSpan.FromSeconds(10) };
    private const int FailureThreshold = 2;
    private readonly Dictionary<EdgeNode, int> _failedPolls = [];
    private volatile EdgeNode[] _rotation = [];
    private int _next;
    private long _retried;

    private LoadDriver(FaultCluster cluster, string? sessionToken)
    {
        _cluster = cluster;
        _sessionToken = sessionToken;
    }

    /// <summary>Seconds since the load started.</summary>
    public double Now => _clock.Elapsed.TotalSeconds;

    public long Retried => Interlocked.Read(ref _retried);

    public IReadOnlyCollection<Outcome> Outcomes => _outcomes;

    /// <summary>Starts <paramref name="clients"/> client loops (each about 20 requests a second) and the hot client.</summary>
    public static async Task<LoadDriver> StartAsync(FaultCluster cluster, int clients = 6, bool hot = true)
    {
        var edge = cluster.LiveEdges.First();
        var login = await Eventually.UntilAsync(() => FaultCluster.LoginAsync(edge), l => l.Token is not null, TimeSpan.FromSeconds(30), "alice's login");
        var driver = new LoadDriver(cluster, login.Token);
        await driver.RefreshRotationAsync();
        driver._loops.Add(driver.RotationLoopAsync());
        for (var i = 0; i < clients; i++)
        {
            var client = i;
            driver._loops.Add(driver.ClientLoopAsync(client));
        }

        if (hot)
        {
            driver._loops.Add(driver.HotLoopAsync());
        }

        return driver;
    }

    /// <summary>Requests admitted for the hot client from <paramref name="from"/> to <paramref name="to"/> (seconds of <see cref="Now"/>).</summary>
    public int HotAdmitted(double from, double to) => _hotAdmittedAt.Count(t => t >= from && t < to);

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        _http.Dispose();
        _stop.Dispose();
    }

    /// <summary>Sends one request the way the load does and records it (the other scenarios' probes use it too).</summary>
    public async Task<Outcome> SendAsync(string path, string forwardedFor, bool withSession, CancellationToken cancellationToken)
    {
        var started = Now;
        var watch = Stopwatch.StartNew();
        var status = 0;
        string? error = null;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var edges = _rotation;
            if (edges.Length == 0)
            {
                error = "no edge in rotation";
                break;
            }

            var edge = edges[(int)((uint)Interlocked.Increment(ref _next) % (uint)edges.Length)];
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(edge.Client.BaseAddress!, path));
            request.Headers.Add("X-Forwarded-For", forwardedFor);
            if (withSession)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _sessionToken);
            }

            try
            {
                using var response = await _http.SendAsync(request, cancellationToken);
                status = (int)response.StatusCode;
                error = status >= 500 ? await ProblemTitleAsync(response, cancellationToken) : null;
                break;
            }
            catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConnectionError && attempt == 0)
            {
                Interlocked.Increment(ref _retried);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                error = ex.GetType().Name;
                break;
            }
        }

        var outcome = new Outcome(started, Now, status, error, watch.Elapsed.TotalMilliseconds, path);
        return outcome;
    }

    /// <summary>What a gateway error said (the problem's <c>detail</c>), to tell the 503s apart.</summary>
    private static async Task<string> ProblemTitleAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var at = body.IndexOf("\"detail\":\"", StringComparison.Ordinal);
        var detail = at < 0 ? "no problem detail" : body[(at + 10)..].Split('"')[0];
        return $"{(int)response.StatusCode} {detail}";
    }

    private async Task ClientLoopAsync(int client)
    {
        var path = client % 2 == 0 ? "/api/steady/x" : "/api/session/x";
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                _outcomes.Add(await SendAsync(path, $"10.1.0.{client + 1}", withSession: client % 2 == 1, _stop.Token));
            }
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    private async Task HotLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / (3 * FaultCluster.HotRequests)));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                var outcome = await SendAsync("/api/hot/x", "203.0.113.7", withSession: false, _stop.Token);
                if (outcome.Status == 200)
                {
                    _hotAdmittedAt.Add(outcome.Started);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    private async Task RotationLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                await RefreshRotationAsync();
            }
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    /// <summary>
    /// Polls every edge's readiness as the k8s readiness probe does (k8s/base: 2 s timeout, out after 2 failures in a
    /// row, back after 1 success), only more often; an exited edge is out at once.
    /// </summary>
    private async Task RefreshRotationAsync()
    {
        var edges = _cluster.LiveEdges.ToList();
        var ready = await Task.WhenAll(edges.Select(async edge =>
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                using var response = await edge.Client.GetAsync(new Uri("/health/ready", UriKind.Relative), cts.Token);
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }));
        var rotation = new List<EdgeNode>();
        for (var i = 0; i < edges.Count; i++)
        {
            var failures = ready[i] ? 0 : _failedPolls.GetValueOrDefault(edges[i]) + 1;
            _failedPolls[edges[i]] = failures;
            if (failures == 0 || (failures < FailureThreshold && _rotation.Contains(edges[i])))
            {
                rotation.Add(edges[i]);
            }
        }

        _rotation = [.. rotation];
    }
}

/// <summary>One request: when it started and ended (seconds of the load's clock), its status (0 without an answer), latency.</summary>
public sealed record Outcome(double Started, double Ended, int Status, string? Error, double LatencyMs, string Path)
{
    public bool Failed => Status is not (200 or 429);
}
