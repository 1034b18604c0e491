// The baseline of scripts/bench.sh: plain YARP with one catch-all route to one upstream, logging off, nothing else.
//   dotnet Gateway.Bench.PlainYarp.dll --urls http://127.0.0.1:8090 --upstream http://127.0.0.1:5001
// (or the environment variable UPSTREAM). The same YARP version as the edge (Directory.Packages.props).
using Yarp.ReverseProxy.Configuration;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
var upstream = builder.Configuration["upstream"];
if (string.IsNullOrWhiteSpace(upstream) || !Uri.TryCreate(upstream, UriKind.Absolute, out _))
{
    await Console.Error.WriteLineAsync("usage: Gateway.Bench.PlainYarp --upstream http://host:port [--urls http://127.0.0.1:port]");
    return 2;
}

builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "upstream", Match = new RouteMatch { Path = "{**catch-all}" } }],
    [new ClusterConfig { ClusterId = "upstream", Destinations = new Dictionary<string, DestinationConfig> { ["upstream"] = new() { Address = upstream } } }]);

var app = builder.Build();
app.MapReverseProxy();
await app.RunAsync();
return 0;
