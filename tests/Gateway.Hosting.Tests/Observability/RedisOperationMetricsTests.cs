using System.Diagnostics.Metrics;
using Gateway.Hosting.Clustering;
using Gateway.Hosting.Observability;
using Gateway.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Gateway.Hosting.Tests.Observability;

/// <summary>The Redis profiler against a real redis-server on a loopback port.</summary>
public sealed class RedisOperationMetricsTests : IAsyncLifetime
{
    private const string Instrument = "gateway_redis_operation_duration_seconds";

    private RedisServer _server = null!;
    private ServiceProvider _services = null!;
    private GatewayMetrics _metrics = null!;
    private RedisConnection _redis = null!;

    public async Task InitializeAsync()
    {
        _server = await RedisServer.StartAsync();
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>());
        _redis = new RedisConnection(ConfigurationOptions.Parse(_server.ConnectionString));
    }

    public async Task DisposeAsync()
    {
        _redis.Dispose();
        _metrics.Dispose();
        await _services.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Flush_CommandsSentOverTheMultiplexer_RecordedByLowerCaseCommandName()
    {
        using var collector = new MetricCollector<double>(_services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, Instrument);
        var profiler = new RedisOperationMetrics(_redis, _metrics, TimeProvider.System, NullLogger<RedisOperationMetrics>.Instance);
        profiler.Register();
        var db = _redis.Multiplexer.GetDatabase();

        await db.StringSetAsync("obs:key", "value");
        await db.HashSetAsync("obs:hash", "field", "value");
        var hash = await db.HashGetAllAsync("obs:hash");
        var flushed = profiler.Flush();

        Assert.Single(hash);
        Assert.True(flushed >= 3, $"flushed {flushed} commands");
        var measurements = collector.GetMeasurementSnapshot();
        var operations = measurements.Select(m => (string)m.Tags["operation"]!).ToHashSet(StringComparer.Ordinal);
        Assert.Superset(new HashSet<string>(StringComparer.Ordinal) { "set", "hset", "hgetall" }, operations);
        Assert.All(measurements, m => Assert.InRange(m.Value, double.Epsilon, 10));
        Assert.Equal(0, profiler.Flush());
    }

    [Fact]
    public async Task ExecuteAsync_Running_RecordsCommandsOnEachTickWithoutExplicitFlush()
    {
        using var collector = new MetricCollector<double>(_services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, Instrument);
        var time = new FakeTimeProvider();
        using var profiler = new RedisOperationMetrics(_redis, _metrics, time, NullLogger<RedisOperationMetrics>.Instance);
        await profiler.StartAsync(CancellationToken.None);
        var db = _redis.Multiplexer.GetDatabase();

        // The profiler registers itself in the background: keep sending until one tick has recorded a command.
        for (var attempt = 0; attempt < 100 && !collector.GetMeasurementSnapshot().Any(m => Equals(m.Tags["operation"], "incr")); attempt++)
        {
            await db.StringIncrementAsync("obs:counter");
            time.Advance(RedisOperationMetrics.FlushInterval);
            await Task.Delay(20);
        }

        await profiler.StopAsync(CancellationToken.None);
        Assert.Contains(collector.GetMeasurementSnapshot(), m => Equals(m.Tags["operation"], "incr"));
    }

    [Theory]
    [InlineData("HGETALL", "hgetall")]
    [InlineData("EVALSHA", "evalsha")]
    [InlineData("CLIENT", "client")]
    [InlineData(null, RedisOperationMetrics.OtherOperation)]
    [InlineData("", RedisOperationMetrics.OtherOperation)]
    [InlineData("GET key", RedisOperationMetrics.OtherOperation)]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ", RedisOperationMetrics.OtherOperation)]
    public void OperationName_CommandNames_LowerCaseOrOther(string? command, string expected)
    {
        Assert.Equal(expected, RedisOperationMetrics.OperationName(command));
    }
}
