using Gateway.Hosting.Configuration;

namespace Gateway.Hosting.Tests.Configuration;

/// <summary>Hostile or broken files are refused with errors, never with an exception (a reload must not crash a process).</summary>
public sealed class GatewayConfigParserHardeningTests
{
    private const string Upstream = "upstreams: { a: { destinations: [\"http://127.0.0.1:1\"] } }\n";

    [Theory]
    [InlineData("100000000000000000000000h")]
    [InlineData("79228162514264337593543950335ms")]
    [InlineData("9999999999999999999999999999")]
    public void Parse_HugeTimeout_ErrorNamesTheKey(string timeout)
    {
        var yaml = $"upstreams: {{ a: {{ destinations: [\"http://127.0.0.1:1\"], timeout: {timeout} }} }}\nroutes: [ {{ id: r, path: /x, upstream: a }} ]";

        var result = GatewayConfigParser.Parse(yaml);

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.Key == "upstreams.a.timeout");
    }

    [Fact]
    public void Parse_TimeoutLongerThanADay_ErrorNamesTheKey()
    {
        var yaml = "upstreams: { a: { destinations: [\"http://127.0.0.1:1\"], timeout: 25h } }\nroutes: [ { id: r, path: /x, upstream: a } ]";

        var error = Assert.Single(GatewayConfigParser.Parse(yaml).Errors);

        Assert.Equal("upstreams.a.timeout", error.Key);
        Assert.Equal(1, error.Line);
    }

    [Theory]
    [InlineData("upstreams:\n  ? [a, b]\n  : { destinations: [\"http://127.0.0.1:1\"] }\nroutes: [ { id: r, path: /x, upstream: a } ]", "upstreams")]
    [InlineData(Upstream + "routes: [ { id: r, path: /x, upstream: a } ]\nratelimit:\n  tiers:\n    ? { x: 1 }\n    : { requests: 1, period: 1s }", "ratelimit.tiers")]
    [InlineData(Upstream + "routes:\n  - ? [id]\n    : r", "routes[0]")]
    [InlineData("? [a]\n: 1\n" + Upstream + "routes: [ { id: r, path: /x, upstream: a } ]", "")]
    public void Parse_NonScalarKey_ErrorNamesTheMapping(string yaml, string key)
    {
        var result = GatewayConfigParser.Parse(yaml);

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.Key == key && e.Message.Contains("plain names", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("[", "]", 5000)]
    [InlineData("{a: ", "}", 5000)]
    [InlineData("- ", "", 200)]
    public void Parse_DeepNesting_RefusedWithoutStackOverflow(string open, string close, int depth)
    {
        var nested = string.Concat(Enumerable.Repeat(open, depth)) + "x" + string.Concat(Enumerable.Repeat(close, depth));
        var yaml = Upstream + "routes: " + (open == "- " ? "\n" + Indented(depth) : nested);

        var error = Assert.Single(GatewayConfigParser.Parse(yaml).Errors);

        Assert.Equal("gateway.yml", error.Key);
        Assert.Contains("levels deep", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FileOverTheSizeCap_Refused()
    {
        var yaml = Upstream + "routes: [ { id: r, path: /x, upstream: a } ]\n#" + new string('x', GatewayConfigParser.MaxFileLength);

        var error = Assert.Single(GatewayConfigParser.Parse(yaml).Errors);

        Assert.Equal("gateway.yml", error.Key);
    }

    [Fact]
    public void Parse_MethodListedTwiceInAnotherCase_ErrorNamesTheItem()
    {
        var yaml = Upstream + "routes: [ { id: r, path: /x, upstream: a, methods: [GET, get] } ]";

        var error = Assert.Single(GatewayConfigParser.Parse(yaml).Errors);

        Assert.Equal("routes[0].methods[1]", error.Key);
    }

    [Fact]
    public void Parse_BucketThatWouldOverflowTheLimiter_ErrorNamesBurst()
    {
        var yaml = Upstream + "routes: [ { id: r, path: /x, upstream: a, ratelimit: { requests: 1, period: 300d, burst: 9000000000000 } } ]";
        yaml = yaml.Replace("300d", "7000h", StringComparison.Ordinal);

        var error = Assert.Single(GatewayConfigParser.Parse(yaml).Errors);

        Assert.Equal("routes[0].ratelimit.burst", error.Key);
    }

    [Fact]
    public void Parse_AliasToAnEarlierNode_ParsesLikeTheCopy()
    {
        var yaml = "upstreams: { a: &dest { destinations: [\"http://127.0.0.1:1\"] }, b: *dest }\nroutes: [ { id: r, path: /x, upstream: b } ]";

        var result = GatewayConfigParser.Parse(yaml);

        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Equal(2, result.Config!.Upstreams.Count);
    }

    private static string Indented(int depth)
    {
        var builder = new System.Text.StringBuilder();
        for (var i = 0; i < depth; i++)
        {
            builder.Append(' ', i * 2).Append("-\n");
        }

        return builder.ToString();
    }
}
