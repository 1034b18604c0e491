using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Observability;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Hosting.Tests.Observability;

/// <summary>The log's bounded buffer and its writer thread, over an output the test controls.</summary>
public sealed class LogLineBufferTests
{
    [Fact]
    public async Task TryAdd_OutputStuckAndBufferFull_DropsAndCountsWithoutWaiting()
    {
        using var output = new GatedStream();
        var buffer = new LogLineBuffer(output, capacity: 4);

        Assert.True(buffer.TryAdd(Line(0)));
        await output.WriteStarted.Task; // the writer thread holds line 0 and waits on the output
        var added = Enumerable.Range(1, 7).Select(i => buffer.TryAdd(Line(i))).ToList();

        Assert.Equal([true, true, true, true, false, false, false], added);
        Assert.Equal(3, buffer.Dropped);
        output.Open();
        buffer.Dispose();
        Assert.Equal(Enumerable.Range(0, 5).Select(Text), output.Lines());
    }

    [Fact]
    public void Dispose_LinesWaiting_WritesAllInTheOrderAdded()
    {
        using var output = new GatedStream();
        var buffer = new LogLineBuffer(output, capacity: 2_000);

        for (var i = 0; i < 1_000; i++)
        {
            Assert.True(buffer.TryAdd(Line(i)));
        }

        output.Open();
        buffer.Dispose();

        Assert.Equal(Enumerable.Range(0, 1_000).Select(Text), output.Lines());
        Assert.Equal(0, buffer.Dropped);
    }

    [Fact]
    public void TryAdd_AfterDispose_WrittenDirectly()
    {
        using var output = new GatedStream();
        output.Open();
        var buffer = new LogLineBuffer(output, capacity: 4);
        buffer.TryAdd(Line(0));
        buffer.Dispose();

        Assert.True(buffer.TryAdd(Line(1)));

        Assert.Equal([Text(0), Text(1)], output.Lines());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("lots")]
    [InlineData("1000001")]
    public void ReadCapacity_NotALineCount_ErrorNamesTheVariable(string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new(LogLineBuffer.CapacityVariable, value)]).Build();

        var error = Assert.Throws<GatewayConfigurationException>(() => LogLineBuffer.ReadCapacity(configuration));

        Assert.Equal(LogLineBuffer.CapacityVariable, Assert.Single(error.Errors).Key);
    }

    [Fact]
    public void ReadCapacity_Unset_Default()
    {
        Assert.Equal(LogLineBuffer.DefaultCapacity, LogLineBuffer.ReadCapacity(new ConfigurationBuilder().Build()));
    }

    [Fact]
    public async Task DroppedCounter_BufferFull_ReportsTheDrops()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var output = new GatedStream();
        var buffer = new LogLineBuffer(output, capacity: 1);
        using var metrics = new GatewayMetrics(services.GetRequiredService<IMeterFactory>(), buffer);
        using var collector = new MetricCollector<long>(services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, "gateway_log_lines_dropped_total");
        buffer.TryAdd(Line(0));
        await output.WriteStarted.Task;
        buffer.TryAdd(Line(1));

        buffer.TryAdd(Line(2));
        buffer.TryAdd(Line(3));
        collector.RecordObservableInstruments();

        Assert.Equal(2, collector.LastMeasurement!.Value);
        Assert.Empty(collector.LastMeasurement.Tags);
        output.Open();
        buffer.Dispose();
    }

    [Fact]
    public void Provider_EntryInsideScope_OneJsonLineWithScopeFields()
    {
        using var output = new GatedStream();
        output.Open();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 8, 30, 15, 250, TimeSpan.Zero));
        var provider = new JsonLineLoggerProvider(new LogLineBuffer(output), time);
        var scopes = new LoggerExternalScopeProvider();
        provider.SetScopeProvider(scopes);
        var logger = provider.CreateLogger("Test");

        using (scopes.Push(new Dictionary<string, object?> { ["correlation_id"] = "abc-123" }))
        {
            logger.Log(LogLevel.Error, new EventId(7), new Dictionary<string, object?> { ["Status"] = 502, ["DurationMs"] = 1.5 }, null, (_, _) => "failed");
        }

        provider.Dispose();

        using var json = JsonDocument.Parse(Assert.Single(output.Lines()));
        var root = json.RootElement;
        Assert.Equal("2026-11-27T08:30:15.250Z", root.GetProperty("timestamp").GetString());
        Assert.Equal("ERROR", root.GetProperty("level").GetString());
        Assert.Equal("failed", root.GetProperty("message").GetString());
        Assert.Equal(7, root.GetProperty("event_id").GetInt32());
        Assert.Equal(502, root.GetProperty("status").GetInt32());
        Assert.Equal(1.5, root.GetProperty("duration_ms").GetDouble());
        Assert.Equal("abc-123", root.GetProperty("correlation_id").GetString());
    }

    private static string Text(int i) => $"{{\"line\":{i}}}";

    private static byte[] Line(int i) => Encoding.UTF8.GetBytes(Text(i) + "\n");

    /// <summary>An output whose writes wait until the test opens it.</summary>
    private sealed class GatedStream : MemoryStream
    {
        private readonly ManualResetEventSlim _open = new();

        public TaskCompletionSource WriteStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _open.Set();

        public string[] Lines() => Encoding.UTF8.GetString(ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        public override void Write(byte[] buffer, int offset, int count)
        {
            WriteStarted.TrySetResult();
            _open.Wait();
            base.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            WriteStarted.TrySetResult();
            _open.Wait();
            base.Write(buffer);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _open.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
