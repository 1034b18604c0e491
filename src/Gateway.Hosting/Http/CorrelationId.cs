using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Gateway.Hosting.Http;

/// <summary>
/// The request's correlation id: the client's <c>X-Correlation-ID</c> when it is 1–128 characters of
/// <c>[A-Za-z0-9._-]</c>, else a new one.
/// </summary>
public static class CorrelationId
{
    public const string HeaderName = "X-Correlation-ID";

    public static bool IsValid([NotNullWhen(true)] string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 128)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Random bytes per id (32 hex digits).</summary>
    private const int IdBytes = 16;

    /// <summary>Random bytes a thread takes from the system at once: 32 ids per system call.</summary>
    private const int BlockBytes = 32 * IdBytes;

    [ThreadStatic]
    private static byte[]? _randomBlock;

    [ThreadStatic]
    private static int _randomUsed;

    /// <summary>
    /// A new id: 32 lower-case hex digits of cryptographically secure random bytes. Each thread takes them from the
    /// system 32 ids at a time (<c>Guid.NewGuid</c> read <c>/dev/urandom</c> once per id: a system call per request) and
    /// clears the bytes it used.
    /// </summary>
    public static string New()
    {
        var block = _randomBlock;
        var used = _randomUsed;
        if (block is null || used > block.Length - IdBytes)
        {
            block ??= _randomBlock = new byte[BlockBytes];
            RandomNumberGenerator.Fill(block);
            used = 0;
        }

        _randomUsed = used + IdBytes;
        var bytes = block.AsSpan(used, IdBytes);
        var id = Convert.ToHexStringLower(bytes);
        bytes.Clear();
        return id;
    }

    /// <summary>The request's id, as <see cref="CorrelationIdMiddleware"/> (or <see cref="Set"/>) settled it; null before.</summary>
    public static string? Get(Microsoft.AspNetCore.Http.HttpContext context) => context?.Features.Get<CorrelationScope>()?.Id;

    /// <summary>
    /// The id of the request this code runs for, when its first step made it current with <see cref="EnterLogContext"/>:
    /// the JSON line writes it as <c>correlation_id</c>, as it writes a logging scope's fields.
    /// </summary>
    public static CorrelationScope? Current => CurrentScope.Value;

    /// <summary>
    /// Makes <paramref name="scope"/> current for the rest of the calling async method (and what it calls): the cheap
    /// form of a logging scope (one execution context change, none undone by hand; a scope takes an object and two).
    /// </summary>
    public static void EnterLogContext(CorrelationScope scope) => CurrentScope.Value = scope;

    private static readonly AsyncLocal<CorrelationScope?> CurrentScope = new();

    public static void Set(Microsoft.AspNetCore.Http.HttpContext context, string id)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Features.Set(new CorrelationScope(id));
    }
}

/// <summary>
/// The request's correlation id in one object: the request feature that <see cref="CorrelationId.Get"/> reads, and the
/// logging scope with one field, written as <c>correlation_id</c>.
/// </summary>
public sealed class CorrelationScope(string id) : IReadOnlyList<KeyValuePair<string, object?>>
{
    /// <summary>The field's name in log lines.</summary>
    public const string FieldName = "correlation_id";

    public string Id { get; } = id;

    public int Count => 1;

    public KeyValuePair<string, object?> this[int index] =>
        index == 0 ? new(FieldName, Id) : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"correlation_id:{Id}";
}
