using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Gateway.Hosting.Observability;

/// <summary>
/// One JSON object per line: <c>timestamp</c>, <c>level</c>, <c>category</c>, <c>message</c>, then every structured
/// field of the message and its scopes in snake_case (so <c>CorrelationId</c> becomes <c>correlation_id</c>).
/// Levels are upper case (<c>INFO</c>, <c>WARNING</c>, <c>ERROR</c>) so that <c>grep ERROR</c> finds errors.
/// </summary>
public sealed class JsonLineFormatter(TimeProvider time) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "gateway-json";

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, SkipValidation = true };

    /// <summary>Field names are few (one per message template placeholder): convert each once.</summary>
    private static readonly ConcurrentDictionary<string, string> SnakeNames = new(StringComparer.Ordinal);

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("timestamp", time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteString("level", LevelName(logEntry.LogLevel));
            writer.WriteString("category", logEntry.Category);
            writer.WriteString("message", message ?? string.Empty);
            if (logEntry.EventId.Id != 0)
            {
                writer.WriteNumber("event_id", logEntry.EventId.Id);
            }

            var written = new HashSet<string>(StringComparer.Ordinal) { "timestamp", "level", "category", "message", "event_id", "exception" };
            if (logEntry.State is IEnumerable<KeyValuePair<string, object?>> fields)
            {
                WriteFields(writer, fields, written);
            }

            scopeProvider?.ForEachScope(
                (scope, state) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> scopeFields)
                    {
                        WriteFields(state.Writer, scopeFields, state.Written);
                    }
                },
                (Writer: writer, Written: written));

            if (logEntry.Exception is { } exception)
            {
                writer.WriteString("exception", exception.ToString());
            }

            writer.WriteEndObject();
        }

        textWriter.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        textWriter.Write('\n');
    }

    private static void WriteFields(Utf8JsonWriter writer, IEnumerable<KeyValuePair<string, object?>> fields, HashSet<string> written)
    {
        foreach (var (key, value) in fields)
        {
            if (key == "{OriginalFormat}")
            {
                continue;
            }

            var name = SnakeCase(key);
            if (!written.Add(name))
            {
                continue;
            }

            switch (value)
            {
                case null:
                    writer.WriteNull(name);
                    break;
                case int or long or short or byte or uint or ulong or ushort:
                    writer.WriteNumber(name, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case double or float or decimal:
                    writer.WriteNumber(name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case bool flag:
                    writer.WriteBoolean(name, flag);
                    break;
                default:
                    writer.WriteString(name, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                    break;
            }
        }
    }

    /// <summary><c>DurationMs</c> → <c>duration_ms</c>; names already in snake_case stay as they are.</summary>
    public static string SnakeCase(string name) => SnakeNames.GetOrAdd(name, static n => JsonNamingPolicy.SnakeCaseLower.ConvertName(n));

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "TRACE",
        LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARNING",
        LogLevel.Error => "ERROR",
        LogLevel.Critical => "CRITICAL",
        _ => "NONE",
    };
}
