using Gateway.Edge.Observability;
using Microsoft.Extensions.Primitives;

namespace Gateway.Edge.Tests.Observability;

/// <summary>The upstream's <c>traceparent</c> written by the edge when it records no spans.</summary>
public sealed class TraceContextTransformsTests
{
    private const string Caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    [Fact]
    public void Next_ValidTraceparent_KeepsTraceIdAndFlagsWithANewSpanId()
    {
        var next = TraceContextTransforms.Next(new StringValues(Caller), out var continued);

        Assert.True(continued);
        Assert.True(TraceContextTransforms.IsValid(next));
        Assert.StartsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-", next, StringComparison.Ordinal);
        Assert.EndsWith("-01", next, StringComparison.Ordinal);
        Assert.NotEqual("00f067aa0ba902b7", next[36..52]);
    }

    [Fact]
    public void Next_LaterVersionWithMoreFields_ContinuedAsVersion00()
    {
        var next = TraceContextTransforms.Next(new StringValues("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra"), out var continued);

        Assert.True(continued);
        Assert.Equal(55, next.Length);
        Assert.StartsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-", next, StringComparison.Ordinal);
        Assert.EndsWith("-00", next, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")] // upper case
    [InlineData("00-00000000000000000000000000000000-00f067aa0ba902b7-01")] // zero trace id
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01")] // zero span id
    [InlineData("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")] // forbidden version
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra")] // version 00 has no more fields
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7")]
    public void Next_InvalidTraceparent_StartsANewTrace(string incoming)
    {
        var next = TraceContextTransforms.Next(new StringValues(incoming), out var continued);

        Assert.False(continued);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-00$", next);
        Assert.DoesNotContain("4bf92f3577b34da6a3ce929d0e0e4736", next, StringComparison.Ordinal);
    }

    [Fact]
    public void Next_TwoTraceparents_StartsANewTrace()
    {
        var next = TraceContextTransforms.Next(new StringValues([Caller, Caller]), out var continued);

        Assert.False(continued);
        Assert.DoesNotContain("4bf92f3577b34da6a3ce929d0e0e4736", next, StringComparison.Ordinal);
    }

    [Fact]
    public void Next_NoTraceparent_NewTraceIdEachTime()
    {
        var first = TraceContextTransforms.Next(StringValues.Empty, out _);
        var second = TraceContextTransforms.Next(StringValues.Empty, out _);

        Assert.True(TraceContextTransforms.IsValid(first));
        Assert.NotEqual(first[3..35], second[3..35]);
    }
}
