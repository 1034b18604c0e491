using Gateway.Edge.RateLimiting;
using Gateway.Hosting.Configuration;

namespace Gateway.Edge.Tests.RateLimiting;

public sealed class RateLimitHeadersTests
{
    [Fact]
    public void FormatPolicy_WholeSeconds_WritesQuotaAndWindow()
    {
        Assert.Equal("\"default\";q=100;w=60", RateLimitHeaders.FormatPolicy("default", new RateLimitPolicy(100, TimeSpan.FromMinutes(1), 100)));
    }

    [Fact]
    public void FormatPolicy_SubSecondPeriod_WritesDecimalWindow()
    {
        Assert.Equal("\"fast\";q=5;w=0.5", RateLimitHeaders.FormatPolicy("fast", new RateLimitPolicy(5, TimeSpan.FromMilliseconds(500), 5)));
    }

    [Fact]
    public void FormatState_PartialSecond_RoundsTimeUp()
    {
        Assert.Equal("\"users\";r=0;t=1", RateLimitHeaders.FormatState("users", 0, TimeSpan.FromMilliseconds(100)));
        Assert.Equal("\"users\";r=3;t=0", RateLimitHeaders.FormatState("users", 3, TimeSpan.Zero));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(10_000_000, 1)]
    [InlineData(10_000_001, 2)]
    public void CeilingSeconds_Ticks_RoundsUp(long ticks, long expected)
    {
        Assert.Equal(expected, RateLimitHeaders.CeilingSeconds(TimeSpan.FromTicks(ticks)));
    }
}
