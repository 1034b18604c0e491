using System.Globalization;
using BenchmarkDotNet.Running;
using Gateway.Benchmarks;

// dotnet run -c Release --project bench/Gateway.Benchmarks -- load [buckets]   the load run against a silo process
// dotnet run -c Release --project bench/Gateway.Benchmarks -- many [clients]    exact mode, many distinct clients: silo CPU per decision, bytes per bucket
// dotnet run -c Release --project bench/Gateway.Benchmarks -- many-embedded [clients]   the same with the silo in this process
// dotnet run -c Release --project bench/Gateway.Benchmarks -- session           what a session check adds to a request
// dotnet run -c Release --project bench/Gateway.Benchmarks -- transforms        what a route's transforms add to a request
// dotnet run -c Release --project bench/Gateway.Benchmarks -- allocs [requests]  bytes per proxied request by type, edge and plain YARP
//     (in one process, then with the client and upstream in this process and the proxies in a child: pipeline-servers <upstream port>)
// dotnet run -c Release --project bench/Gateway.Benchmarks -- session-cpu [checks]  the cached session check's CPU time per check
// dotnet run -c Release --project bench/Gateway.Benchmarks -- [BenchmarkDotNet arguments]
//     (EdgeOwnAllocationBenchmarks needs --inProcess: its client-driver child is this program)
if (args is ["load", ..])
{
    var buckets = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
    return await LoadRun.RunAsync(buckets);
}

if (args is ["many", ..])
{
    var clients = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
    return await LoadRun.RunAsync(0, clients);
}

if (args is ["many-embedded", ..])
{
    var clients = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
    return await ManyClientsRun.RunEmbeddedAsync(clients, TimeSpan.FromSeconds(15));
}

if (args is ["session"])
{
    return await SessionRun.RunAsync();
}

if (args is ["allocs", ..])
{
    var requests = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20_000;
    return await AllocationRun.RunAsync(requests);
}

if (args is ["pipeline-servers", var upstreamPort])
{
    return await ProxyProcess.ServeAsync(int.Parse(upstreamPort, CultureInfo.InvariantCulture));
}

if (args is ["client-driver"])
{
    return await ClientDriver.ServeAsync();
}

if (args is ["session-cpu", ..])
{
    var checks = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200_000;
    return await SessionCpuRun.RunAsync(checks);
}

if (args is ["transforms"])
{
    return await TransformRun.RunAsync();
}

BenchmarkSwitcher.FromAssembly(typeof(LeaseHitBenchmarks).Assembly).Run(args);
return 0;
