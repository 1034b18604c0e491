using Gateway.Hosting.Configuration;

namespace Gateway.Hosting.Tests.Configuration;

public sealed class DurationParserTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("10s", 10_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1800", 1_800_000)]
    [InlineData("0.5", 500)]
    [InlineData(" 2s ", 2_000)]
    public void TryParse_Supported_ReturnsDuration(string text, int milliseconds)
    {
        Assert.True(DurationParser.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ten seconds")]
    [InlineData("5d")]
    [InlineData("-1s")]
    [InlineData("1e9h")]
    [InlineData(null)]
    public void TryParse_Unsupported_ReturnsFalse(string? text)
    {
        Assert.False(DurationParser.TryParse(text, out _));
    }
}
