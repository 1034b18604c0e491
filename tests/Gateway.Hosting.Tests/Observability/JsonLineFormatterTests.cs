using System.Globalization;
using System.Text;
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

    [Theory]
    [InlineData("2026-11-27T08:30:15.2500000Z")]
    [InlineData("0001-01-01T00:00:00.0000000Z")]
    [InlineData("2024-02-29T23:59:59.9999999Z")]
    [InlineData("9999-12-31T23:59:59.9999999Z")]
    [InlineData("2000-01-01T00:00:00.0010000Z")]
    public void FormatTimestamp_Instants_MatchTheCustomFormatString(string instant)
    {
        var utc = DateTime.Parse(instant, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        var bytes = new byte[JsonLineFormatter.TimestampLength];

        JsonLineFormatter.FormatTimestamp(utc, bytes);

        Assert.Equal(utc.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture), Encoding.ASCII.GetString(bytes));
    }
}
