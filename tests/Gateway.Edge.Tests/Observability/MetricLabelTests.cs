using System.Text.RegularExpressions;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Hosting.Observability;

namespace Gateway.Edge.Tests.Observability;

/// <summary>What a client (or an upstream) sends never becomes a label value of its own: the series stay bounded.</summary>
public sealed partial class MetricLabelTests
{
    private static readonly string[] StandardMethods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"];

    [Fact]
    public async Task Metrics_RandomMethods_MethodLabelBoundedToStandardAndOther()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var edge = await TestEdge.StartAsync(upstream.EchoConfig(rateLimited: false));
        var tokens = Enumerable.Range(0, 30).Select(i => $"ZZ{i}{Guid.NewGuid():N}"[..12].ToUpperInvariant()).ToList();

        foreach (var (token, i) in tokens.Select((t, i) => (t, i)))
        {
            // Half to a route (forwarded upstream), half to no route (the edge's own 404).
            using var request = new HttpRequestMessage(new HttpMethod(token), i % 2 == 0 ? "/api/x" : "/nowhere");
            using var response = await edge.Client.SendAsync(request);
        }

        using (var get = await edge.Client.GetAsync(new Uri("/api/x", UriKind.Relative)))
        {
            Assert.True(get.IsSuccessStatusCode);
        }

        var scrape = await ScrapeUntilAsync(edge, "method=\"OTHER\"");
        var methods = LabelValues(scrape, "gateway_requests_total", "method").Concat(LabelValues(scrape, "gateway_request_duration_seconds_count", "method")).ToHashSet();
        Assert.Contains("OTHER", methods);
        Assert.Contains("GET", methods);
        Assert.All(methods, m => Assert.Contains(m, StandardMethods.Append("OTHER")));
        Assert.All(tokens, t => Assert.DoesNotContain(t, scrape, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Metrics_UpstreamStatusAbove599_StatusLabelOther()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var edge = await TestEdge.StartAsync(upstream.EchoConfig(rateLimited: false));

        using (var odd = await edge.Client.GetAsync(new Uri("/api/x?status=799", UriKind.Relative)))
        {
            Assert.Equal(799, (int)odd.StatusCode);
        }

        using (var teapot = await edge.Client.GetAsync(new Uri("/api/x?status=418", UriKind.Relative)))
        {
            Assert.Equal(418, (int)teapot.StatusCode);
        }

        var scrape = await ScrapeUntilAsync(edge, "status=\"OTHER\"");
        var statuses = LabelValues(scrape, "gateway_requests_total", "status").ToHashSet();
        Assert.Contains("OTHER", statuses);
        Assert.Contains("418", statuses);
        Assert.DoesNotContain("799", statuses);
    }

    [Theory]
    [InlineData("GET", "GET")]
    [InlineData("CONNECT", "CONNECT")]
    [InlineData("get", "OTHER")]
    [InlineData("PROPFIND", "OTHER")]
    [InlineData("", "OTHER")]
    public void MethodLabel_Method_StandardOrOther(string method, string expected)
    {
        Assert.Equal(expected, GatewayMetrics.MethodLabel(method));
    }

    [Theory]
    [InlineData(100, "100")]
    [InlineData(200, "200")]
    [InlineData(599, "599")]
    [InlineData(600, "OTHER")]
    [InlineData(99, "OTHER")]
    [InlineData(999, "OTHER")]
    public void StatusLabel_Code_TextInRangeElseOther(int status, string expected)
    {
        Assert.Equal(expected, GatewayMetrics.StatusLabel(status));
        Assert.Same(GatewayMetrics.StatusLabel(status), GatewayMetrics.StatusLabel(status));
    }

    private static Task<string> ScrapeUntilAsync(TestEdge edge, string wanted) =>
        Eventually.UntilAsync(
            () => edge.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative)),
            text => text.Contains(wanted, StringComparison.Ordinal),
            TimeSpan.FromSeconds(6),
            $"/metrics showing {wanted}",
            TimeSpan.FromMilliseconds(200));

    private static IEnumerable<string> LabelValues(string scrape, string series, string label) =>
        scrape.Split('\n')
            .Where(line => line.StartsWith(series + "{", StringComparison.Ordinal))
            .Select(line => LabelPattern().Matches(line).FirstOrDefault(m => m.Groups[1].Value == label)?.Groups[2].Value)
            .OfType<string>();

    [GeneratedRegex("([a-z_]+)=\"([^\"]*)\"")]
    private static partial Regex LabelPattern();
}
