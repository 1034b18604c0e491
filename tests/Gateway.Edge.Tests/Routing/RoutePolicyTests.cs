using System.Collections.Immutable;
using System.Net;
using Gateway.Edge.Routing;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Hosting.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Edge.Tests.Routing;

/// <summary>
/// A request is judged by the policy of the route revision it matched: a reload YARP would refuse is refused whole, a
/// changed policy applies to unchanged routes, and a route without a resolvable policy fails closed.
/// </summary>
public sealed class RoutePolicyTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await TestUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    private string Config(string usersId = "users", string usersAuth = "required", string postsMethods = "[GET]") => $$"""
        upstreams: { app: { destinations: ["{{_upstream.Address}}"] } }
        routes:
          - { id: {{usersId}}, path: "/api/users/{**rest}", upstream: app, auth: {{usersAuth}}, ratelimit: { requests: 100, period: 1s } }
          - { id: posts, path: "/api/posts/{**rest}", upstream: app, methods: {{postsMethods}} }
        """;

    [Fact]
    public async Task Reload_RenameWithMethodsYarpRefuses_RefusedWholeAndAuthStillRequired()
    {
        await using var edge = await TestEdge.StartAsync(Config());

        // The reproduction: rename the authenticated route, and give another route a list YARP refuses.
        var applied = await edge.WriteConfigAsync(Config(usersId: "users2", postsMethods: "[GET, get]"));

        Assert.False(applied);
        using var response = await edge.Client.GetAsync(new Uri("/api/users/me", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(_upstream.Received);
        var metrics = await edge.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains(metrics.Split('\n'), line => line.StartsWith("gateway_config_reloads_total{", StringComparison.Ordinal) && line.Contains("result=\"failure\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reload_RouteRenamed_NewIdKeepsItsAuthAndLimit()
    {
        await using var edge = await TestEdge.StartAsync(Config());

        Assert.True(await edge.WriteConfigAsync(Config(usersId: "users2")));

        using var response = await edge.Client.GetAsync(new Uri("/api/users/me", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var metrics = await edge.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains(metrics.Split('\n'), line => line.StartsWith("gateway_requests_total{", StringComparison.Ordinal) && line.Contains("route=\"users2\"", StringComparison.Ordinal) && line.Contains("status=\"401\"", StringComparison.Ordinal));
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task Reload_AuthTightenedOnUnchangedRoute_AppliesToNextRequest()
    {
        await using var edge = await TestEdge.StartAsync(Config(usersAuth: "none"));
        using (var open = await edge.Client.GetAsync(new Uri("/api/users/me", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        }

        // Path, methods and upstream are unchanged: only the gateway's policy differs, and it must not be missed.
        Assert.True(await edge.WriteConfigAsync(Config(usersAuth: "required")));

        using var response = await edge.Client.GetAsync(new Uri("/api/users/me", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Request_RouteWithoutResolvablePolicy_FailsClosedWith500()
    {
        // A proxy config filter that hands YARP copies of the routes: their endpoints carry no gateway policy.
        await using var edge = await TestEdge.StartAsync(
            Config(usersAuth: "none"),
            configure: builder => builder.Services.AddSingleton<IProxyConfigFilter, CopyingFilter>(),
            map: null,
            quiet: true);

        using var response = await edge.Client.GetAsync(new Uri("/api/users/me", UriKind.Relative));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task Validate_DuplicateMethodsPastTheParser_ProxyRefusesNamingTheRoute()
    {
        await using var edge = await TestEdge.StartAsync(Config());
        var validator = edge.Services.GetServices<IGatewayConfigValidator>().OfType<ProxyConfigValidator>().Single();
        var config = edge.Services.GetRequiredService<GatewayConfigStore>().Current;
        var posts = config.Routes[1] with { Methods = ["GET", "GET"] };
        var broken = config with { Routes = config.Routes.SetItem(1, posts) };

        var errors = validator.Validate(broken);

        Assert.Equal("routes[1]", Assert.Single(errors).Key);
        Assert.Empty(validator.Validate(config));
    }

    private sealed class CopyingFilter : IProxyConfigFilter
    {
        public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) => ValueTask.FromResult(cluster);

        public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) =>
            ValueTask.FromResult(route with { Metadata = route.Metadata?.ToImmutableDictionary() });
    }
}
