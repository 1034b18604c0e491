using System.Diagnostics.Metrics;
using Gateway.Hosting.Observability;
using OpenTelemetry.Metrics;

namespace Gateway.Hosting.Tests.Observability;

public sealed class OrleansMetricsTests : IDisposable
{
    private readonly Meter _orleans = new(OrleansMetrics.MeterName);
    private readonly Meter _other = new("Gateway.Tests.Other");

    [Theory]
    [InlineData("orleans-app-requests-latency", "ms")]
    [InlineData("orleans-runtime-available-memory", "MB")]
    [InlineData("orleans-runtime-total-physical-memory-megabytes", null)]
    [InlineData("orleans-some-duration-milliseconds", null)]
    public void View_InstrumentInScaledUnit_Dropped(string name, string? unit)
    {
        var instrument = _orleans.CreateHistogram<double>(name, unit);

        Assert.Same(MetricStreamConfiguration.Drop, OrleansMetrics.View(instrument));
    }

    [Fact]
    public void View_KnownInstrumentWithoutDescription_GetsItsOwnHelpText()
    {
        var instrument = _orleans.CreateObservableGauge("orleans-grains", () => 1);

        var view = OrleansMetrics.View(instrument);

        Assert.NotNull(view);
        Assert.Equal("Grain activations on this silo, by grain type.", view.Description);
        Assert.Null(view.Name);
    }

    [Theory]
    [InlineData("orleans-new-instrument", null)]
    [InlineData("orleans-sent-bytes", "By")]
    [InlineData("orleans-calls", "{call}")]
    public void View_UnknownInstrumentInBaseUnit_GetsGenericHelpTextNamingIt(string name, string? unit)
    {
        var instrument = _orleans.CreateCounter<long>(name, unit);

        var view = OrleansMetrics.View(instrument);

        Assert.NotNull(view);
        Assert.NotSame(MetricStreamConfiguration.Drop, view);
        Assert.Contains(name, view.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void View_InstrumentWithDescription_KeptAsItIs()
    {
        var instrument = _orleans.CreateCounter<long>("orleans-described", description: "Orleans' own words.");

        Assert.Null(OrleansMetrics.View(instrument));
    }

    [Fact]
    public void View_OtherMeterInMilliseconds_LeftToOtherViews()
    {
        var instrument = _other.CreateHistogram<double>("other-latency", "ms");

        Assert.Null(OrleansMetrics.View(instrument));
    }

    public void Dispose()
    {
        _orleans.Dispose();
        _other.Dispose();
    }
}
