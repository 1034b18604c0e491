namespace Gateway.Faults;

/// <summary>Silo and edge processes killed, frozen and restarted under steady load.</summary>
public static class ProcessFaults
{
    /// <summary>kill -9 of one silo; a new silo replaces it afterwards.</summary>
    public static async Task<ScenarioResult> KillSiloAsync(FaultCluster cluster, TimeSpan after)
    {
        await using var load = await LoadDriver.StartAsync(cluster);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var victim = cluster.LiveSilos.Last();
        var staleBefore = await StaleServedAsync(cluster);
        var fault = load.Now;
        victim.Process.Signal(ChildProcess.SigKill);
        await Task.Delay(after);
        var end = load.Now;
        await load.StopAsync();
        var stale = await StaleServedAsync(cluster) - staleBefore;
        await cluster.AddSiloAsync(TimeSpan.FromSeconds(60));

        var window = new Window(load.Outcomes, 0, end);
        var errorsEnd = window.ErrorsEndAfter(fault);
        var (admitted, ideal, bound) = HotKey(load, end, crash: true);
        // In flight: sent before the kill. Sessions whose grain was on the killed silo are served from the edges' last
        // answers (stale-if-error), so a request sent after the kill has no reason to fail.
        var lateFailures = window.Failures.Count(o => o.Started > fault);
        var holds = errorsEnd <= 3 && lateFailures == 0 && admitted <= bound;
        return new ScenarioResult(
            "kill -9 of a silo",
            Load(window, end),
            window.Failures.Count == 0 ? "nothing" : $"{window.Failures.Count} failed ({window.FailureKinds()}; session checks failed on the edges with {cluster.SessionFailureCauses()}), {lateFailures} of them sent after the kill",
            $"errors ended {Text.F(errorsEnd)} s after the kill (the last failed answer); {stale} session checks served from the edges' last answers; hot key admitted {admitted} where {ideal} were due (bound {bound}: burst + rate·t + crash bound + one burst of local shares)",
            "only in-flight requests fail; errors end ≤ 3 s; overshoot within the crash bound",
            holds);
    }

    /// <summary>SIGSTOP of one silo for <paramref name="frozen"/>, then SIGCONT: it must find itself declared dead and stop.</summary>
    public static async Task<ScenarioResult> FreezeSiloAsync(FaultCluster cluster, TimeSpan frozen)
    {
        await using var load = await LoadDriver.StartAsync(cluster);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var victim = cluster.LiveSilos.Last();
        var staleBefore = await StaleServedAsync(cluster);
        var fault = load.Now;
        victim.Process.Signal(ChildProcess.SigStop);
        await Task.Delay(frozen);
        victim.Process.Signal(ChildProcess.SigCont);
        var resumed = load.Now;
        double? exitedAfter = null;
        try
        {
            await victim.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
            exitedAfter = load.Now - resumed;
        }
        catch (OperationCanceledException)
        {
            // reported below
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        var end = load.Now;
        await load.StopAsync();
        var stale = await StaleServedAsync(cluster) - staleBefore;
        if (exitedAfter is null)
        {
            victim.Process.Signal(ChildProcess.SigKill);
            await victim.Process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        await cluster.AddSiloAsync(TimeSpan.FromSeconds(60));

        var window = new Window(load.Outcomes, 0, end);
        var errorsEnd = window.ErrorsEndAfter(fault);
        var (admitted, ideal, bound) = HotKey(load, end, crash: true);
        var holds = errorsEnd <= 3 && exitedAfter is not null && admitted <= bound;
        return new ScenarioResult(
            $"SIGSTOP a silo for {frozen.TotalSeconds:0} s, then SIGCONT",
            Load(window, end),
            $"{window.Failures.Count} failed ({window.FailureKinds()})",
            $"errors ended {Text.F(errorsEnd)} s after the stop; {stale} session checks served from the edges' last answers; after SIGCONT the frozen silo {(exitedAfter is { } s ? $"found itself declared dead and exited in {Text.F(s)} s (no second activation can serve)" : "did NOT exit within 30 s")}; hot key admitted {admitted} where {ideal} were due (bound {bound})",
            "errors end ≤ 3 s after the stop; no duplicate activation afterwards",
            holds);
    }

    /// <summary>Every silo, then every edge: SIGTERM, wait for it to exit, start its replacement, wait until it is ready.</summary>
    public static async Task<ScenarioResult> RollingRestartAsync(FaultCluster cluster)
    {
        await using var load = await LoadDriver.StartAsync(cluster);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var restarts = new List<string>();
        foreach (var silo in cluster.LiveSilos.ToList())
        {
            var started = load.Now;
            silo.Process.Signal(ChildProcess.SigTerm);
            await silo.Process.WaitForExitAsync(TimeSpan.FromSeconds(60));
            await cluster.AddSiloAsync(TimeSpan.FromSeconds(60));
            restarts.Add(Text.F(load.Now - started));
        }

        foreach (var edge in cluster.LiveEdges.ToList())
        {
            var started = load.Now;
            edge.Process.Signal(ChildProcess.SigTerm);
            await edge.Process.WaitForExitAsync(TimeSpan.FromSeconds(60));
            var replacement = cluster.Cluster.AddEdge();
            await replacement.WaitReadyAsync(TimeSpan.FromSeconds(60));
            restarts.Add(Text.F(load.Now - started));
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
        var end = load.Now;
        await load.StopAsync();
        var window = new Window(load.Outcomes, 0, end);
        return new ScenarioResult(
            "rolling restart of every silo, then every edge (SIGTERM, one at a time)",
            Load(window, end),
            window.Failures.Count == 0 ? "nothing" : $"{window.Failures.Count} failed ({window.FailureKinds()}; session checks failed on the edges with {cluster.SessionFailureCauses()})",
            $"{window.Failures.Count} failed requests; {load.Retried} connect failures retried on another edge (as a balancer does); each restart took {string.Join(" / ", restarts)} s (stop to replacement ready)",
            "0 failed requests",
            window.Failures.Count == 0);
    }

    /// <summary>Session checks the edges served from their last answers (stale-if-error), summed over the live edges.</summary>
    internal static Task<double> StaleServedAsync(FaultCluster cluster) =>
        LoadFaults.SumOverEdgesAsync(cluster, "gateway_session_stale_served_total", string.Empty);

    internal static string Load(Window window, double seconds) =>
        $"{window.Sent} requests in {Text.F(seconds)} s over every edge (6 clients, half with a session, plus a hot key at 3× its limit)";

    /// <summary>The hot key's admissions over the run, what the policy allows (burst + rate·t), and the documented bound.</summary>
    internal static (int Admitted, long Ideal, long Bound) HotKey(LoadDriver load, double end, bool crash)
    {
        var admitted = load.HotAdmitted(0, end);
        var ideal = FaultCluster.HotRequests + (long)Math.Ceiling(FaultCluster.HotRequests * end);

        // A crash gives back at most a tenth of the burst plus about a second of requests; local buckets add at most one burst.
        var bound = ideal + FaultCluster.HotRequests + (crash ? (FaultCluster.HotRequests / 10) + FaultCluster.HotRequests : 0);
        return (admitted, ideal, bound);
    }
}
