using System.Diagnostics;

namespace Gateway.Faults;

/// <summary>Redis frozen, and Redis restarted with nothing in it, under steady load.</summary>
public static class RedisFaults
{
    /// <summary>
    /// redis-server stopped with SIGSTOP for <paramref name="outage"/> (its data kept; clients see a server that does not
    /// answer), then SIGCONT. Logins are tried once a second throughout.
    /// </summary>
    public static async Task<ScenarioResult> RedisStoppedAsync(FaultCluster cluster, TimeSpan outage)
    {
        await using var load = await LoadDriver.StartAsync(cluster);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var logins = new List<(double At, int Status)>();
        var attempt = 0;
        async Task LoginOnceAsync()
        {
            var edges = cluster.LiveEdges.ToList();
            var at = load.Now;
            var (status, _) = await FaultCluster.LoginAsync(edges[attempt % edges.Count], $"198.51.100.{(attempt % 200) + 10}");
            attempt++;
            logins.Add((at, status));
        }

        var fault = load.Now;
        cluster.Cluster.Redis.Signal(ChildProcess.SigStop);
        var outageWatch = Stopwatch.StartNew();
        while (outageWatch.Elapsed < outage)
        {
            await LoginOnceAsync();
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        cluster.Cluster.Redis.Signal(ChildProcess.SigCont);
        var resumed = load.Now;
        double? recoveredAfter = null;
        var recoveryWatch = Stopwatch.StartNew();
        while (recoveryWatch.Elapsed < TimeSpan.FromSeconds(30))
        {
            await LoginOnceAsync();
            if (logins[^1].Status == 200)
            {
                recoveredAfter = load.Now - resumed;
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
        var end = load.Now;
        await load.StopAsync();
        var window = new Window(load.Outcomes, 0, end);
        var during = logins.Where(l => l.At < resumed).ToList();
        var duringKinds = string.Join(", ", during.GroupBy(l => l.Status).Select(g => $"{g.Count()}× {(g.Key == 0 ? "no answer" : g.Key.ToString(System.Globalization.CultureInfo.InvariantCulture))}"));
        var holds = window.Failures.Count == 0 && during.All(l => l.Status is 503 or 200) && recoveredAfter is not null;
        return new ScenarioResult(
            $"Redis stopped for {outage.TotalSeconds:0} s (SIGSTOP, then SIGCONT)",
            ProcessFaults.Load(window, end) + $"; a login every second ({logins.Count} in all)",
            window.Failures.Count == 0 ? "logins only" : $"{window.Failures.Count} proxied requests failed ({window.FailureKinds()})",
            $"{window.Failures.Count} failed proxied requests with existing sessions (fault at {Text.F(fault)} s); logins during the outage: {duringKinds}; first successful login {(recoveredAfter is { } r ? $"{Text.F(r)} s" : "NOT within 30 s")} after Redis came back",
            "0 failed proxied requests; logins fail with a clear 503 problem and recover by themselves",
            holds);
    }

    /// <summary>redis-server killed and started again empty (membership table and sessions gone); then a new silo is started.</summary>
    public static async Task<ScenarioResult> RedisRestartedEmptyAsync(FaultCluster cluster)
    {
        await using var load = await LoadDriver.StartAsync(cluster);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var fault = load.Now;
        await cluster.Cluster.Redis.StopAsync();
        await cluster.Cluster.Redis.RestartAsync();
        var silosBefore = cluster.LiveSilos.Count();
        double? joinedAfter = null;
        string joinError = string.Empty;
        try
        {
            await cluster.AddSiloAsync(TimeSpan.FromSeconds(45));
            joinedAfter = load.Now - fault;
        }
        catch (TimeoutException ex)
        {
            joinError = ex.Message.Split('\n')[0];
        }

        await Task.Delay(TimeSpan.FromSeconds(5));
        var end = load.Now;
        await load.StopAsync();
        // The sessions were in Redis: a 401 for the lost session is the data loss itself, not the cluster failing to serve.
        var window = new Window(load.Outcomes.Where(o => o.Status != 401), 0, end);
        var sessionsLost = load.Outcomes.Count(o => o.Status == 401 && o.Started >= fault);
        var servesAfter = window.ErrorsEndAfter(fault);
        var lastOk = window.Failures.Count == 0 || window.Failures.Max(o => o.Ended) < end - 3;
        var holds = lastOk && servesAfter <= 30 && joinedAfter is <= 30;
        return new ScenarioResult(
            "Redis restarted empty (data lost)",
            ProcessFaults.Load(window, end),
            $"the stored sessions: {sessionsLost} requests with the lost session got 401 (log in again){(window.Failures.Count == 0 ? string.Empty : $"; {window.Failures.Count} other failures ({window.FailureKinds()})")}",
            $"the cluster served throughout{(window.Failures.Count == 0 ? string.Empty : $" except until {Text.F(servesAfter)} s after the restart")}; {silosBefore} silos stayed up; a new silo {(joinedAfter is { } j ? $"joined and was ready {Text.F(j)} s after the restart" : $"did NOT join within 45 s ({joinError})")}",
            "self-heals without a person, ≤ 30 s",
            holds);
    }
}
