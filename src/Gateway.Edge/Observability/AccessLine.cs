using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text.Json;
using Gateway.Hosting.Observability;

namespace Gateway.Edge.Observability;

/// <summary>
/// The access line's state: the contract's fields (<c>method</c>, <c>path</c>, <c>route</c>, <c>status</c>,
/// <c>duration_ms</c>, <c>client</c>, <c>user_id</c>) and the message
/// <c>{Method} {Path} {Status} {DurationMs}ms route={Route} client={Client} user={UserId}</c>. The JSON line writes both
/// straight from this struct (no message string, no boxed numbers); other providers read it as a list of fields.
/// </summary>
internal readonly struct AccessLine(string method, string path, string route, int status, double durationMs, string client, string? userId)
    : IJsonLineEntry, IReadOnlyList<KeyValuePair<string, object?>>
{
    public const string Template = "{Method} {Path} {Status} {DurationMs}ms route={Route} client={Client} user={UserId}";

    /// <summary>The formatter handed to <c>ILogger.Log</c>: the message for providers other than the JSON line.</summary>
    public static readonly Func<AccessLine, Exception?, string> Format = static (line, _) => line.ToString();

    private const string Null = "(null)";

    public int Count => 8;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("Method", method),
        1 => new("Path", path),
        2 => new("Status", status),
        3 => new("DurationMs", durationMs),
        4 => new("Route", route),
        5 => new("Client", client),
        6 => new("UserId", userId),
        7 => new("{OriginalFormat}", Template),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public void WriteMessage(Utf8JsonWriter writer, JsonEncodedText name)
    {
        ArgumentNullException.ThrowIfNull(writer);

        // The literals and two numbers take under 80 characters.
        var length = method.Length + path.Length + route.Length + client.Length + (userId ?? Null).Length + 80;
        char[]? rented = null;
        var chars = length <= 512 ? stackalloc char[512] : (rented = ArrayPool<char>.Shared.Rent(length));
        try
        {
            if (TryFormat(chars, out var written))
            {
                writer.WriteString(name, chars[..written]);
            }
            else
            {
                writer.WriteString(name, ToString());
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    public void WriteFields(JsonLineFields fields)
    {
        fields.Write("method", method);
        fields.Write("path", path);
        fields.Write("status", status);
        fields.Write("duration_ms", durationMs);
        fields.Write("route", route);
        fields.Write("client", client);
        fields.Write("user_id", userId);
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{method} {path} {status} {durationMs}ms route={route} client={client} user={userId ?? Null}");

    private bool TryFormat(Span<char> destination, out int written) =>
        destination.TryWrite(CultureInfo.InvariantCulture, $"{method} {path} {status} {durationMs}ms route={route} client={client} user={userId ?? Null}", out written);
}
