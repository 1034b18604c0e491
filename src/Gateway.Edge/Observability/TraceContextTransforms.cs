using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Edge.Observability;

/// <summary>
/// The W3C trace context of the upstream call when the request has no <see cref="Activity"/> (no trace exporter: the edge
/// records no spans and starts none): the caller's trace continued with a new span id for the edge's call and the caller's
/// flags, or, without a valid <c>traceparent</c>, a new trace (and the caller's <c>tracestate</c> dropped with it). With an
/// Activity, HttpClient's diagnostics handler writes the headers from the Activity instead.
/// </summary>
internal static class TraceContextTransforms
{
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";

    /// <summary><c>00-</c>, 32 hex digits, <c>-</c>, 16 hex digits, <c>-</c>, 2 hex digits.</summary>
    private const int Length = 55;

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    /// <summary>Adds the request transform to every route (<c>AddTransforms(TraceContextTransforms.Apply)</c>).</summary>
    public static void Apply(TransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.AddRequestTransform(static transform =>
        {
            if (Activity.Current is null)
            {
                var headers = transform.ProxyRequest.Headers;
                var traceParent = Next(transform.HttpContext.Request.Headers[TraceParent], out var continued);
                headers.Remove(TraceParent);
                headers.TryAddWithoutValidation(TraceParent, traceParent);
                if (!continued)
                {
                    headers.Remove(TraceState);
                }
            }

            return ValueTask.CompletedTask;
        });
    }

    /// <summary>The <c>traceparent</c> of the upstream call: version 00, the caller's trace id and flags when it sent one valid <c>traceparent</c>.</summary>
    internal static string Next(StringValues incoming, out bool continued)
    {
        continued = incoming.Count == 1 && IsValid(incoming[0]);
        return string.Create(Length, continued ? incoming[0] : null, static (chars, parent) =>
        {
            Span<byte> random = stackalloc byte[24];
            Random.Shared.NextBytes(random);
            random[0] |= 1; // neither a trace id nor a span id may be all zeros
            random[16] |= 1;
            "00-".CopyTo(chars);
            if (parent is null)
            {
                Convert.TryToHexStringLower(random[..16], chars[3..35], out _);
            }
            else
            {
                parent.AsSpan(3, 32).CopyTo(chars[3..35]);
            }

            chars[35] = '-';
            Convert.TryToHexStringLower(random[16..], chars[36..52], out _);
            chars[52] = '-';
            (parent ?? "00").AsSpan(parent is null ? 0 : 53, 2).CopyTo(chars[53..]);
        });
    }

    /// <summary>A <c>traceparent</c> of W3C Trace Context level 1 (or of a later version, read as level 1).</summary>
    internal static bool IsValid(string? value)
    {
        if (value is null || value.Length < Length)
        {
            return false;
        }

        var span = value.AsSpan();
        if (span.Length > Length && (span[..2] is "00" || span[Length] != '-'))
        {
            return false;
        }

        return IsHex(span[..2]) && span[..2] is not "ff" && span[2] == '-'
            && IsHex(span[3..35]) && span[3..35].ContainsAnyExcept('0') && span[35] == '-'
            && IsHex(span[36..52]) && span[36..52].ContainsAnyExcept('0') && span[52] == '-'
            && IsHex(span[53..55]);
    }

    private static bool IsHex(ReadOnlySpan<char> span) => !span.ContainsAnyExcept(LowerHex);
}
