using System.Text.Json;
using Gateway.Edge.Observability;
using Gateway.Hosting.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Edge.Tests.Observability;

public sealed class AccessLineTests
{
    [Fact]
    public void Write_AccessLine_MessageAndTypedContractFields()
    {
        var line = new AccessLine("GET", "/api/users/42", "users", 200, 1.25, "10.0.0.1", null);

        var root = Format(line);

        Assert.Equal("GET /api/users/42 200 1.25ms route=users client=10.0.0.1 user=(null)", root.GetProperty("message").GetString());
        Assert.Equal(line.ToString(), root.GetProperty("message").GetString());
        Assert.Equal("GET", root.GetProperty("method").GetString());
        Assert.Equal("/api/users/42", root.GetProperty("path").GetString());
        Assert.Equal("users", root.GetProperty("route").GetString());
        Assert.Equal(200, root.GetProperty("status").GetInt32());
        Assert.Equal(1.25, root.GetProperty("duration_ms").GetDouble());
        Assert.Equal("10.0.0.1", root.GetProperty("client").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("user_id").ValueKind);
        Assert.Equal(1, root.GetProperty("event_id").GetInt32());
    }

    [Fact]
    public void Write_LongPath_MessageKeepsTheWholePath()
    {
        var path = "/api/" + new string('a', 2000);
        var line = new AccessLine("POST", path, "api", 502, 10, "10.0.0.1", "alice");

        var root = Format(line);

        Assert.Equal($"POST {path} 502 10ms route=api client=10.0.0.1 user=alice", root.GetProperty("message").GetString());
        Assert.Equal("alice", root.GetProperty("user_id").GetString());
    }

    [Fact]
    public void Fields_OtherProviders_ReadTheTemplateNames()
    {
        var line = new AccessLine("GET", "/x", "r", 404, 2, "c", "u");

        var fields = line.ToDictionary(pair => pair.Key, pair => pair.Value);

        Assert.Equal(404, fields["Status"]);
        Assert.Equal(2.0, fields["DurationMs"]);
        Assert.Equal("u", fields["UserId"]);
        Assert.Equal(AccessLine.Template, fields["{OriginalFormat}"]);
    }

    private static JsonElement Format(AccessLine line)
    {
        var formatter = new JsonLineFormatter(new FakeTimeProvider());
        var scopes = new LoggerExternalScopeProvider();
        using var writer = new StringWriter();
        using (scopes.Push(new List<KeyValuePair<string, object?>> { new("correlation_id", "abc"), new("status", "scope-value") }))
        {
            formatter.Write(new LogEntry<AccessLine>(LogLevel.Information, "access", new EventId(1), line, null, AccessLine.Format), scopes, writer);
        }

        using var json = JsonDocument.Parse(writer.ToString());
        var root = json.RootElement.Clone();
        Assert.Equal("abc", root.GetProperty("correlation_id").GetString());
        return root;
    }
}
