using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Hosting.Observability;

/// <summary>
/// The process's log: every entry formatted by <see cref="JsonLineFormatter"/> on the thread that logs it (into a buffer
/// that thread keeps) and handed to the <see cref="LogLineBuffer"/>, whose writer puts it on stdout. A request
/// never waits on the output; what does not fit in the buffer is counted and dropped.
/// </summary>
[ProviderAlias("Console")]
public sealed class JsonLineLoggerProvider(LogLineBuffer buffer, TimeProvider time) : ILoggerProvider, ISupportExternalScope
{
    [ThreadStatic]
    private static LineWriter? _threadWriter;

    private IExternalScopeProvider? _scopes;

    public ILogger CreateLogger(string categoryName) => new JsonLineLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    /// <summary>Writes the lines still waiting.</summary>
    public void Dispose() => buffer.Dispose();

    private void Write<TState>(string category, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        // Taken from the thread while in use: a value's ToString that logs gets a writer of its own.
        var line = _threadWriter ?? new LineWriter();
        _threadWriter = null;
        try
        {
            var entry = new LogEntry<TState>(level, category, eventId, state, exception, formatter);
            if (JsonLineFormatter.WriteLine(line.Json, entry, _scopes, time.GetUtcNow()))
            {
                line.Bytes.Write("\n"u8);
                buffer.TryAdd(line.Bytes.WrittenSpan);
            }
        }
        finally
        {
            line.Reset();
            _threadWriter = line;
        }
    }

    /// <summary>A thread's reusable line buffer and JSON writer over it.</summary>
    private sealed class LineWriter
    {
        private const int KeptCapacity = 16 * 1024;

        public LineWriter()
        {
            Json = new Utf8JsonWriter(Bytes, JsonLineFormatter.WriterOptions);
        }

        public ArrayBufferWriter<byte> Bytes { get; private set; } = new(1024);

        public Utf8JsonWriter Json { get; private set; }

        public void Reset()
        {
            if (Bytes.Capacity > KeptCapacity)
            {
                // A line with a long exception: do not keep its buffer for the thread's lifetime.
                Bytes = new ArrayBufferWriter<byte>(1024);
                Json.Dispose();
                Json = new Utf8JsonWriter(Bytes, JsonLineFormatter.WriterOptions);
                return;
            }

            Bytes.ResetWrittenCount();
            Json.Reset(Bytes);
        }
    }

    private sealed class JsonLineLogger(JsonLineLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => provider._scopes?.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(category, logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
