using System.Net;
using System.Net.Http.Headers;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Hosting.Configuration;
using Microsoft.AspNetCore.Builder;

namespace Gateway.Edge.Tests.Http;

/// <summary>Without <c>MANAGEMENT_URLS</c> (development, tests) the traffic listener serves the management surface, as before.</summary>
public sealed class ManagementListenerUnsetTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-management-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Get_ManagementSurfaceWithoutManagementUrls_IsServedOnTheTrafficListener()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var edge = await TestEdge.StartAsync(
            $$"""
            upstreams: { echo: { destinations: ["{{upstream.Address}}"] } }
            routes: [ { id: echo, path: "/api/{**rest}", upstream: echo, ratelimit: off } ]
            """,
            $"--ADMIN_TOKEN={ManagementListenerTests.AdminToken}");

        using var proxied = await edge.Client.GetAsync(new Uri("/api/x", UriKind.Relative));
        using var admin = new HttpRequestMessage(HttpMethod.Get, "/admin/clients/203.0.113.9");
        admin.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ManagementListenerTests.AdminToken);
        using var adminResponse = await edge.Client.SendAsync(admin);
        using var metrics = await edge.Client.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Contains("gateway_requests_total", await metrics.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, adminResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
    }

    [Fact]
    public async Task AddGatewayEdge_ManagementUrlsWithoutTrafficUrls_KeepsTheDefaultTrafficListener()
    {
        var config = await WriteConfigAsync();
        var builder = WebApplication.CreateBuilder([$"--GATEWAY_CONFIG={config}", "--MANAGEMENT_URLS=http://127.0.0.1:8082"]);
        var traffic = builder.Configuration["urls"];

        builder.AddGatewayEdge();

        // The traffic listener is ASPNETCORE_URLS when this process has one, else the edge's default.
        var expected = string.IsNullOrEmpty(traffic) ? "http://0.0.0.0:8080" : traffic;
        Assert.Equal($"{expected};http://127.0.0.1:8082", builder.Configuration["urls"]);
    }

    [Fact]
    public async Task Start_ManagementUrlsOnTheTrafficPort_ThrowsNamingManagementUrls()
    {
        var config = await WriteConfigAsync();
        var port = FreePort.Next();
        var builder = WebApplication.CreateBuilder([$"--urls=http://127.0.0.1:{port}", $"--GATEWAY_CONFIG={config}", $"--MANAGEMENT_URLS=http://0.0.0.0:{port}"]);

        var ex = Assert.Throws<GatewayConfigurationException>(() => builder.AddGatewayEdge());

        Assert.Equal("MANAGEMENT_URLS", Assert.Single(ex.Errors).Key);
    }

    private async Task<string> WriteConfigAsync()
    {
        var config = Path.Combine(_directory, "gateway.yml");
        await File.WriteAllTextAsync(config, "upstreams: { a: { destinations: [\"http://127.0.0.1:1\"] } }\nroutes: [ { id: a, path: /a, upstream: a } ]");
        return config;
    }
}
