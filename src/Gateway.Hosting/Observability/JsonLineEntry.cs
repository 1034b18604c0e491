using System.Text.Json;

namespace Gateway.Hosting.Observability;

/// <summary>
/// A log state that writes its own <c>message</c> and fields into the JSON line: no message string and no boxed values
/// (a struct passed to <c>ILogger.Log</c> reaches <see cref="JsonLineFormatter"/> unboxed). Other logging providers read it
/// as they read any state: a list of fields and the formatter's message.
/// </summary>
public interface IJsonLineEntry
{
    /// <summary>Writes the line's <c>message</c> member (its name is <paramref name="name"/>).</summary>
    void WriteMessage(Utf8JsonWriter writer, JsonEncodedText name);

    /// <summary>Writes the entry's fields (snake_case names) through <paramref name="fields"/>.</summary>
    void WriteFields(JsonLineFields fields);
}

/// <summary>Writes fields of a line; a name already written (a fixed member or an earlier field) is skipped.</summary>
public readonly struct JsonLineFields
{
    private readonly Utf8JsonWriter _writer;
    private readonly List<string> _written;

    internal JsonLineFields(Utf8JsonWriter writer, List<string> written)
    {
        _writer = writer;
        _written = written;
    }

    public void Write(string name, string? value)
    {
        if (Claim(name))
        {
            if (value is null)
            {
                _writer.WriteNull(name);
            }
            else
            {
                _writer.WriteString(name, value);
            }
        }
    }

    public void Write(string name, long value)
    {
        if (Claim(name))
        {
            _writer.WriteNumber(name, value);
        }
    }

    public void Write(string name, double value)
    {
        if (Claim(name))
        {
            _writer.WriteNumber(name, value);
        }
    }

    private bool Claim(string name)
    {
        if (JsonLineFormatter.IsFixedName(name) || _written.Contains(name))
        {
            return false;
        }

        _written.Add(name);
        return true;
    }
}

/// <summary>Calls an <see cref="IJsonLineEntry"/> state through its own type, without boxing a struct.</summary>
internal abstract class JsonLineEntryWriter<TState>
{
    /// <summary>The writer of <typeparamref name="TState"/>, or null when it is not an <see cref="IJsonLineEntry"/>.</summary>
    public static readonly JsonLineEntryWriter<TState>? Instance = typeof(IJsonLineEntry).IsAssignableFrom(typeof(TState))
        ? (JsonLineEntryWriter<TState>)Activator.CreateInstance(typeof(JsonLineEntryWriters.Typed<>).MakeGenericType(typeof(TState)))!
        : null;

    public abstract void WriteMessage(in TState state, Utf8JsonWriter writer, JsonEncodedText name);

    public abstract void WriteFields(in TState state, JsonLineFields fields);
}

internal static class JsonLineEntryWriters
{
    internal sealed class Typed<TEntry> : JsonLineEntryWriter<TEntry>
        where TEntry : IJsonLineEntry
    {
        public override void WriteMessage(in TEntry state, Utf8JsonWriter writer, JsonEncodedText name) => state.WriteMessage(writer, name);

        public override void WriteFields(in TEntry state, JsonLineFields fields) => state.WriteFields(fields);
    }
}
