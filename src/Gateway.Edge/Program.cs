using Gateway.Edge;
using Gateway.Hosting;

return await GatewayHost.RunAsync(() =>
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddGatewayEdge();
    return builder.Build().MapGatewayEdge();
});
