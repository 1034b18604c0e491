using System.Text.Json;
using Gateway.Hosting.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Hosting.Tests.Observability;

public sealed class JsonLineFormatterTests
{
    [Theory]
    [InlineData("DurationMs", "duration_ms")]
    [InlineData("UserId", "user_id")]
    [InlineData("correlation_id", "correlation_id")]
    [InlineData("HTTPStatus", "http_status")]
    [InlineData("route", "route")]
    public void SnakeCase_Names_AreConverted(string name, string expected)
    {
        Assert.Equal(expected, JsonLineFormatter.SnakeCase(name));
    }

    [Fact]
    public void Write_StructuredEntryWithScope_IsOneJsonLineWithContractFields()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 8, 30, 15, 250, TimeSpan.Zero));
        var formatter = new JsonLineFormatter(time);
        var scopes = new LoggerExternalScopeProvider();
        using var writer = new StringWriter();
        var state = new List<KeyValuePair<string, object?>> { new("Method", "GET"), new("Status", 502), new("{OriginalFormat}", "{Method} {Status}") };

        using (scopes.Push(new List<KeyValuePair<string, object?>> { new("correlation_id", "abc-123") }))
        {
            formatter.Write(new LogEntry<List<KeyValuePair<string, object?>>>(LogLevel.Error, "Test", new EventId(7), state, null, (_, _) => "GET 502"), scopes, writer);
        }

        var text = writer.ToString();
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal("ERROR", root.GetProperty("level").GetString());
        Assert.Equal("GET 502", root.GetProperty("message").GetString());
        Assert.Equal("GET", root.GetProperty("method").GetString());
        Assert.Equal(502, root.GetProperty("status").GetInt32());
        Assert.Equal("abc-123", root.GetProperty("correlation_id").GetString());
        Assert.Equal("2026-11-27T08:30:15.250Z", root.GetProperty("timestamp").GetString());
        Assert.False(root.TryGetProperty("{OriginalFormat}", out _));
    }
}
