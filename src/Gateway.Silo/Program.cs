using Gateway.Hosting;
using Gateway.Silo;

return await GatewayHost.RunAsync(() =>
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddGatewaySilo();
    return builder.Build().MapGatewaySilo();
});
