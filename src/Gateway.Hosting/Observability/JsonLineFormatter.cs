using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Gateway.Hosting.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Gateway.Hosting.Observability;

/// <summary>
/// One JSON object per line: <c>timestamp</c>, <c>level</c>, <c>category</c>, <c>message</c>, then every structured
/// field of the message and its scopes in snake_case (so <c>CorrelationId</c> becomes <c>correlation_id</c>).
/// Levels are upper case (<c>INFO</c>, <c>WARNING</c>, <c>ERROR</c>) so that <c>grep ERROR</c> finds errors.
/// <see cref="JsonLineLoggerProvider"/> writes the process's log with <see cref="WriteLine"/>; the console formatter
/// form writes the same line to a <see cref="TextWriter"/>.
/// </summary>
public sealed class JsonLineFormatter(TimeProvider time) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "gateway-json";

    internal static readonly JsonWriterOptions WriterOptions = new() { Indented = false, SkipValidation = true };

    /// <summary><c>yyyy-MM-ddTHH:mm:ss.fffZ</c>.</summary>
    internal const int TimestampLength = 24;

    private static readonly JsonEncodedText TimestampName = JsonEncodedText.Encode("timestamp");
    private static readonly JsonEncodedText LevelName = JsonEncodedText.Encode("level");
    private static readonly JsonEncodedText CategoryName = JsonEncodedText.Encode("category");
    private static readonly JsonEncodedText MessageName = JsonEncodedText.Encode("message");
    private static readonly JsonEncodedText EventIdName = JsonEncodedText.Encode("event_id");
    private static readonly JsonEncodedText ExceptionName = JsonEncodedText.Encode("exception");

    /// <summary>The names written before the fields: a field of the same name is skipped.</summary>
    private static readonly string[] FixedNames = ["timestamp", "level", "category", "message", "event_id", "exception"];

    /// <summary>Field names are few (one per message template placeholder): convert each once.</summary>
    private static readonly ConcurrentDictionary<string, string> SnakeNames = new(StringComparer.Ordinal);

    [ThreadStatic]
    private static List<string>? _threadNames;

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        ArgumentNullException.ThrowIfNull(textWriter);
        var buffer = new ArrayBufferWriter<byte>(512);
        using var writer = new Utf8JsonWriter(buffer, WriterOptions);
        if (WriteLine(writer, logEntry, scopeProvider, time.GetUtcNow()))
        {
            textWriter.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
            textWriter.Write('\n');
        }
    }

    /// <summary>
    /// Writes the entry as one JSON object (no newline) and flushes <paramref name="writer"/>; false, with nothing
    /// written, for an entry that has neither a message nor an exception.
    /// </summary>
    public static bool WriteLine<TState>(Utf8JsonWriter writer, in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(writer);

        // An entry that writes itself (the access line) needs no message string.
        var entry = JsonLineEntryWriter<TState>.Instance;
        var message = entry is null ? logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception) : null;
        if (entry is null && message is null && logEntry.Exception is null)
        {
            return false;
        }

        writer.WriteStartObject();
        Span<byte> timestamp = stackalloc byte[TimestampLength];
        FormatTimestamp(now.UtcDateTime, timestamp);
        writer.WriteString(TimestampName, timestamp);
        writer.WriteString(LevelName, LevelValue(logEntry.LogLevel));
        writer.WriteString(CategoryName, logEntry.Category);
        if (entry is null)
        {
            writer.WriteString(MessageName, message ?? string.Empty);
        }
        else
        {
            entry.WriteMessage(logEntry.State, writer, MessageName);
        }

        if (logEntry.EventId.Id != 0)
        {
            writer.WriteNumber(EventIdName, logEntry.EventId.Id);
        }

        // Taken from the thread while in use, so that a value whose ToString logs gets a list of its own.
        var written = _threadNames ?? new List<string>(16);
        _threadNames = null;
        try
        {
            if (entry is not null)
            {
                entry.WriteFields(logEntry.State, new JsonLineFields(writer, written));
            }
            else if (logEntry.State is IEnumerable<KeyValuePair<string, object?>> fields)
            {
                WriteFields(writer, fields, written);
            }

            if (CorrelationId.Current is { } correlation)
            {
                WriteField(writer, CorrelationScope.FieldName, correlation.Id, written);
            }

            scopeProvider?.ForEachScope(
                static (scope, state) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> scopeFields)
                    {
                        WriteFields(state.Writer, scopeFields, state.Written);
                    }
                },
                (Writer: writer, Written: written));
        }
        finally
        {
            written.Clear();
            _threadNames = written;
        }

        if (logEntry.Exception is { } exception)
        {
            writer.WriteString(ExceptionName, exception.ToString());
        }

        writer.WriteEndObject();
        writer.Flush();
        return true;
    }

    /// <summary>
    /// Writes <paramref name="utc"/> as <c>yyyy-MM-ddTHH:mm:ss.fffZ</c> into the first <see cref="TimestampLength"/> bytes
    /// of <paramref name="destination"/>: digit by digit, as a custom format string is parsed again on every line.
    /// </summary>
    internal static void FormatTimestamp(DateTime utc, Span<byte> destination)
    {
        var (year, month, day) = utc;
        var timeOfDay = utc.Ticks % TimeSpan.TicksPerDay;
        var d = destination[..TimestampLength];
        Digits(d[..4], year);
        d[4] = (byte)'-';
        Digits(d[5..7], month);
        d[7] = (byte)'-';
        Digits(d[8..10], day);
        d[10] = (byte)'T';
        Digits(d[11..13], (int)(timeOfDay / TimeSpan.TicksPerHour));
        d[13] = (byte)':';
        Digits(d[14..16], (int)(timeOfDay / TimeSpan.TicksPerMinute % 60));
        d[16] = (byte)':';
        Digits(d[17..19], (int)(timeOfDay / TimeSpan.TicksPerSecond % 60));
        d[19] = (byte)'.';
        Digits(d[20..23], (int)(timeOfDay / TimeSpan.TicksPerMillisecond % 1000));
        d[23] = (byte)'Z';

        static void Digits(Span<byte> span, int value)
        {
            for (var i = span.Length - 1; i >= 0; i--)
            {
                span[i] = (byte)('0' + (value % 10));
                value /= 10;
            }
        }
    }

    private static void WriteFields(Utf8JsonWriter writer, IEnumerable<KeyValuePair<string, object?>> fields, List<string> written)
    {
        // Logger messages and the usual scopes are lists: read them by index, without an enumerator per line.
        if (fields is IReadOnlyList<KeyValuePair<string, object?>> list)
        {
            for (var i = 0; i < list.Count; i++)
            {
                WriteField(writer, list[i].Key, list[i].Value, written);
            }

            return;
        }

        foreach (var (key, value) in fields)
        {
            WriteField(writer, key, value, written);
        }
    }

    private static void WriteField(Utf8JsonWriter writer, string key, object? value, List<string> written)
    {
        if (key == "{OriginalFormat}")
        {
            return;
        }

        var name = SnakeCase(key);
        if (IsFixedName(name) || written.Contains(name))
        {
            return;
        }

        written.Add(name);
        switch (value)
        {
            case null:
                writer.WriteNull(name);
                break;
            case string text:
                writer.WriteString(name, text);
                break;
            case int or long or short or byte or uint or ulong or ushort:
                writer.WriteNumber(name, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case double or float or decimal:
                writer.WriteNumber(name, Convert.ToDouble(value, CultureInfo.InvariantCulture));
                break;
            case bool flag:
                writer.WriteBoolean(name, flag);
                break;
            default:
                writer.WriteString(name, Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    /// <summary>A member every line writes before its fields (a field of that name is skipped).</summary>
    internal static bool IsFixedName(string name) => Array.IndexOf(FixedNames, name) >= 0;

    /// <summary><c>DurationMs</c> → <c>duration_ms</c>; names already in snake_case stay as they are.</summary>
    public static string SnakeCase(string name) => SnakeNames.GetOrAdd(name, static n => JsonNamingPolicy.SnakeCaseLower.ConvertName(n));

    private static string LevelValue(LogLevel level) => level switch
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
