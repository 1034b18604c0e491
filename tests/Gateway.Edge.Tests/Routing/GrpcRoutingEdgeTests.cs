using Gateway.Edge.Tests.Infrastructure;
using Gateway.Edge.Tests.Routing.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Edge.Tests.Routing;

/// <summary>gRPC through a route whose upstream has <c>http2: true</c>: a real gRPC service (h2c) behind a real edge.</summary>
public sealed class GrpcRoutingEdgeTests
{
    [Fact]
    public async Task Grpc_UnaryAndServerStreaming_PassThroughHttp2Upstream()
    {
        var upstreamPort = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, upstreamPort, listen => listen.Protocols = HttpProtocols.Http2));
        await using var upstream = builder.Build();
        upstream.MapGrpcService<EchoService>();
        await upstream.StartAsync();

        // The edge's listener speaks HTTP/2 only here, so that the test's gRPC client reaches it over h2c.
        await using var edge = await TestEdge.StartAsync(
            $$"""
            upstreams:
              grpc: { destinations: ["http://127.0.0.1:{{upstreamPort}}"], http2: true }
            routes:
              - { id: grpc, path: "/echo.Echo/{**rest}", upstream: grpc, ratelimit: off }
            """,
            "--Kestrel:EndpointDefaults:Protocols=Http2");
        using var channel = GrpcChannel.ForAddress(edge.Client.BaseAddress!);
        var client = new Echo.EchoClient(channel);

        var reply = await client.SayAsync(new EchoRequest { Text = "hi" });
        using var call = client.Repeat(new EchoRequest { Text = "tick", Times = 5 });
        var streamed = new List<string>();
        await foreach (var item in call.ResponseStream.ReadAllAsync())
        {
            streamed.Add(item.Text);
        }

        Assert.Equal("hi from HTTP/2", reply.Text);
        Assert.Equal(["tick 0", "tick 1", "tick 2", "tick 3", "tick 4"], streamed);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    private sealed class EchoService : Echo.EchoBase
    {
        public override Task<EchoReply> Say(EchoRequest request, ServerCallContext context) =>
            Task.FromResult(new EchoReply { Text = $"{request.Text} from {context.GetHttpContext().Request.Protocol}" });

        public override async Task Repeat(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
        {
            for (var i = 0; i < request.Times; i++)
            {
                await responseStream.WriteAsync(new EchoReply { Text = $"{request.Text} {i}" });
            }
        }
    }
}
