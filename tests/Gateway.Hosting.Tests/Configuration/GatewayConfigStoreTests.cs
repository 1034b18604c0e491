using System.Diagnostics.Metrics;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Observability;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Hosting.Tests.Configuration;

public sealed class GatewayConfigStoreTests : IDisposable
{
    private const string OneRoute = """
        upstreams: { a: { destinations: [ "http://127.0.0.1:1" ] } }
        routes: [ { id: first, path: /one, upstream: a } ]
        """;

    private const string TwoRoutes = """
        upstreams: { a: { destinations: [ "http://127.0.0.1:1" ] } }
        routes: [ { id: first, path: /one, upstream: a }, { id: second, path: /two, upstream: a } ]
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-config-").FullName;
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new();
    private readonly GatewayMetrics _metrics;
    private readonly MetricCollector<long> _reloads;

    public GatewayConfigStoreTests()
    {
        _metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>());
        _reloads = new MetricCollector<long>(_services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, "gateway_config_reloads_total");
    }

    private string ConfigPath => Path.Combine(_directory, "gateway.yml");

    [Fact]
    public void Load_InvalidFile_ThrowsWithEveryError()
    {
        File.WriteAllText(ConfigPath, "routes: [ { id: r } ]");

        var ex = Assert.Throws<GatewayConfigurationException>(() => Load());

        Assert.Contains(ex.Errors, e => e.Key == "upstreams");
        Assert.Contains(ex.Errors, e => e.Key == "routes[0].path");
        Assert.Contains(ex.Errors, e => e.Key == "routes[0].upstream");
    }

    [Fact]
    public void Load_MissingFile_NamesGatewayConfig()
    {
        var ex = Assert.Throws<GatewayConfigurationException>(() => Load());

        Assert.Equal("GATEWAY_CONFIG", Assert.Single(ex.Errors).Key);
    }

    [Fact]
    public void Reload_ValidChange_AppliesAndSignals()
    {
        File.WriteAllText(ConfigPath, OneRoute);
        using var store = Load();
        var token = store.GetChangeToken();

        File.WriteAllText(ConfigPath, TwoRoutes);
        var applied = store.Reload();

        Assert.True(applied);
        Assert.True(token.HasChanged);
        Assert.Equal(["first", "second"], store.Current.Routes.Select(r => r.Id));
        Assert.Equal("success", _reloads.LastMeasurement?.Tags["result"]);
    }

    [Fact]
    public void Reload_InvalidChange_KeepsLastGoodAndCountsFailure()
    {
        File.WriteAllText(ConfigPath, OneRoute);
        using var store = Load();
        var token = store.GetChangeToken();

        File.WriteAllText(ConfigPath, "routes: [ { id: broken } ]");
        var applied = store.Reload();

        Assert.False(applied);
        Assert.False(token.HasChanged);
        Assert.Equal("first", Assert.Single(store.Current.Routes).Id);
        Assert.Equal("failure", _reloads.LastMeasurement?.Tags["result"]);
    }

    [Fact]
    public async Task PollTimer_HostileChanges_NeverThrowKeepLastGoodAndCountEachFailure()
    {
        File.WriteAllText(ConfigPath, OneRoute);
        using var store = Load();
        await store.StartAsync(CancellationToken.None);
        string[] hostile =
        [
            "upstreams: { a: { destinations: [ \"http://127.0.0.1:1\"], timeout: 100000000000000000000000h } }\nroutes: [ { id: first, path: /one, upstream: a } ]",
            "upstreams:\n  ? [a, b]\n  : { destinations: [ \"http://127.0.0.1:1\" ] }\nroutes: [ { id: first, path: /one, upstream: a } ]",
            "routes: " + new string('[', 5000) + new string(']', 5000),
        ];

        foreach (var yaml in hostile)
        {
            File.WriteAllText(ConfigPath, yaml);
            _time.Advance(TimeSpan.FromSeconds(5)); // the poll timer runs Reload on its own thread in production
        }

        Assert.Equal("first", Assert.Single(store.Current.Routes).Id);
        Assert.Equal(3, _reloads.GetMeasurementSnapshot().Count(m => (string?)m.Tags["result"] == "failure"));
        await store.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void Reload_ValidatorRefuses_KeepsLastGoodAndCountsFailure()
    {
        File.WriteAllText(ConfigPath, OneRoute);
        using var store = Load(new RefuseRoute("second"));

        File.WriteAllText(ConfigPath, TwoRoutes);

        Assert.False(store.Reload());
        Assert.Equal("first", Assert.Single(store.Current.Routes).Id);
        Assert.Equal("failure", _reloads.LastMeasurement?.Tags["result"]);
    }

    [Fact]
    public void Load_ValidatorRefuses_ThrowsWithItsError()
    {
        File.WriteAllText(ConfigPath, TwoRoutes);

        var ex = Assert.Throws<GatewayConfigurationException>(() => Load(new RefuseRoute("second")));

        Assert.Equal("routes[1]", Assert.Single(ex.Errors).Key);
    }

    [Fact]
    public void Reload_UnchangedContent_DoesNothing()
    {
        File.WriteAllText(ConfigPath, OneRoute);
        using var store = Load();

        File.WriteAllText(ConfigPath, OneRoute);

        Assert.False(store.Reload());
        Assert.Null(_reloads.LastMeasurement);
    }

    [Fact]
    public async Task StartAsync_FileChangedWithoutEvent_PollPicksItUp()
    {
        File.WriteAllText(ConfigPath, OneRoute);
        using var store = Load();

        // Changed before the watcher exists, so no file event ever reports it: only the 5 s poll can find it.
        File.WriteAllText(ConfigPath, TwoRoutes);
        await store.StartAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        Assert.Single(store.Current.Routes);

        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(2, store.Current.Routes.Length);
        await store.StopAsync(CancellationToken.None);
    }

    public void Dispose()
    {
        _reloads.Dispose();
        _metrics.Dispose();
        _services.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private GatewayConfigStore Load(params IGatewayConfigValidator[] validators)
    {
        var settings = HostSettings.Read(new ConfigurationBuilder().AddInMemoryCollection([new("GATEWAY_CONFIG", ConfigPath)]).Build());
        return GatewayConfigStore.Load(settings, _time, NullLoggerFactory.Instance, _metrics, TimeSpan.FromSeconds(5), validators);
    }

    /// <summary>Refuses any configuration with a route of the given id, as the proxy's validator refuses what it cannot serve.</summary>
    private sealed class RefuseRoute(string id) : IGatewayConfigValidator
    {
        public IReadOnlyList<ConfigError> Validate(GatewayConfig config) =>
            [.. config.Routes.Select((route, index) => (route, index)).Where(r => r.route.Id == id).Select(r => new ConfigError($"routes[{r.index}]", "refused"))];
    }
}
