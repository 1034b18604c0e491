using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Gateway.Cluster.Tests.RateLimiting;

/// <summary>One request of a load run: when it was sent and answered (seconds since the run started), for which client, with which status.</summary>
internal readonly record struct Shot(double SentAt, double AnsweredAt, string Client, HttpStatusCode Status);

/// <summary>
/// Workers that send GETs round-robin over the edges as fast as they can, bounded in time and count.
/// Each client is named by X-Forwarded-For (the cluster trusts loopback in these tests).
/// </summary>
internal sealed class LoadRun
{
    private readonly ConcurrentBag<Shot> _shots = [];

    public IReadOnlyCollection<Shot> Shots => _shots;

    public static async Task<LoadRun> RunAsync(IReadOnlyList<EdgeNode> edges, IReadOnlyList<string> clients, string path, TimeSpan duration, int workers, Func<double, Task>? during = null, int maxRequests = 200_000)
    {
        var run = new LoadRun();
        var clock = Stopwatch.StartNew();
        var sent = 0;
        using var stop = new CancellationTokenSource(duration);
        var tasks = Enumerable.Range(0, workers).Select(async worker =>
        {
            var i = worker;
            while (!stop.IsCancellationRequested && Interlocked.Increment(ref sent) <= maxRequests)
            {
                var edge = edges[i % edges.Count];
                var client = clients[(i / edges.Count) % clients.Count];
                i++;
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                request.Headers.Add("X-Forwarded-For", client);
                var sentAt = clock.Elapsed.TotalSeconds;
                HttpStatusCode status;
                try
                {
                    using var response = await edge.Client.SendAsync(request);
                    status = response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    status = 0;
                }
                catch (TaskCanceledException)
                {
                    status = HttpStatusCode.RequestTimeout;
                }

                run._shots.Add(new Shot(sentAt, clock.Elapsed.TotalSeconds, client, status));
            }
        }).ToList();
        if (during is not null)
        {
            tasks.Add(during(duration.TotalSeconds));
        }

        await Task.WhenAll(tasks);
        return run;
    }

    /// <summary>
    /// The largest excess, over every run of one client's admissions (in order of sending), of admissions over the
    /// contract's bound <c>burst + requests * (t + extra) / period</c>. A request is decided at some moment between its
    /// sending and its answer, so a run's decisions lie between its first send and the latest answer in it (not the
    /// last one's answer: a request sent earlier can be answered later): t spans that, generous by about one RTT.
    /// </summary>
    public double MaxExcess(string client, double requests, double periodSeconds, double burst, double extraSeconds)
    {
        var admitted = _shots.Where(s => s.Client == client && s.Status == HttpStatusCode.OK).OrderBy(s => s.SentAt).ToList();
        var worst = double.NegativeInfinity;
        for (var i = 0; i < admitted.Count; i++)
        {
            var lastAnswer = double.NegativeInfinity;
            for (var j = i; j < admitted.Count; j++)
            {
                lastAnswer = Math.Max(lastAnswer, admitted[j].AnsweredAt);
                var t = Math.Max(0, lastAnswer - admitted[i].SentAt);
                var bound = burst + (requests * (t + extraSeconds) / periodSeconds);
                worst = Math.Max(worst, j - i + 1 - bound);
            }
        }

        return worst;
    }

    /// <summary>
    /// How many of the client's requests an ideal limiter (GCRA at the policy's rate, deciding at the moment each was
    /// sent) would have admitted. The fair yardstick for "admits at least 90%": a pause of the load generator itself
    /// lets tokens go unused beyond the burst, which no limiter could have handed out.
    /// </summary>
    public int IdealAdmitted(string client, double requests, double periodSeconds, double burst)
    {
        var emission = periodSeconds / requests;
        var theoreticalArrival = double.NegativeInfinity;
        var admitted = 0;
        foreach (var shot in _shots.Where(s => s.Client == client).OrderBy(s => s.SentAt))
        {
            var debt = Math.Max(0, theoreticalArrival - shot.SentAt);
            if (debt + emission <= (burst * emission) + 1e-9)
            {
                theoreticalArrival = Math.Max(theoreticalArrival, shot.SentAt) + emission;
                admitted++;
            }
        }

        return admitted;
    }

    public int Count(string client, HttpStatusCode status) => _shots.Count(s => s.Client == client && s.Status == status);

    public int Count(HttpStatusCode status) => _shots.Count(s => s.Status == status);

    public (double First, double Last) Span(string client)
    {
        var mine = _shots.Where(s => s.Client == client).ToList();
        return (mine.Min(s => s.SentAt), mine.Max(s => s.AnsweredAt));
    }
}
