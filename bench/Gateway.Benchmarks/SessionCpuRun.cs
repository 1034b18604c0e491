using System.Globalization;
using Gateway.Edge.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Benchmarks;

/// <summary>
/// The cached session check's CPU time, robust to a busy machine: the check of <see cref="SessionCheckBenchmarks"/> in a
/// loop on one thread, timed by that thread's own time on a core (<c>/proc/thread-self/schedstat</c>, Linux), so time spent
/// waiting for a core while other processes run is not counted.
/// </summary>
internal static class SessionCpuRun
{
    public static async Task<int> RunAsync(int checks)
    {
        await using var hosts = await EdgePipelineHosts.StartAsync();
        using (var client = EdgePipelineHosts.Client())
        {
            var token = await hosts.LoginAsync(client);
            var resolver = hosts.EdgeServices.GetRequiredService<SessionResolver>();
            var context = new DefaultHttpContext { RequestServices = hosts.EdgeServices };
            context.Request.Headers.Authorization = "Bearer " + token;
            var thread = new Thread(() =>
            {
                for (var round = 0; round < 5; round++)
                {
                    var before = OnCoreNanoseconds();
                    var wall = System.Diagnostics.Stopwatch.StartNew();
                    for (var i = 0; i < checks; i++)
                    {
                        var pending = resolver.CheckAsync(context);
                        var valid = pending.IsCompletedSuccessfully ? pending.Result.IsValid : pending.AsTask().GetAwaiter().GetResult().IsValid;
                        if (!valid)
                        {
                            throw new InvalidOperationException("The benchmark's session is not valid.");
                        }
                    }

                    var cpu = (OnCoreNanoseconds() - before) / 1000.0 / checks;
                    var elapsed = wall.Elapsed.TotalMicroseconds / checks;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: {cpu:F2} µs on a core per cached check ({elapsed:F2} µs wall)"));
                }
            });
            thread.Start();
            thread.Join();
        }

        return 0;
    }

    private static long OnCoreNanoseconds()
    {
        var text = File.ReadAllText("/proc/thread-self/schedstat");
        return long.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
    }
}
