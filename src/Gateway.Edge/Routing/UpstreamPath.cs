using System.Buffers;
using System.Text;
using Gateway.Hosting.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Edge.Routing;

/// <summary>
/// The address sent upstream on a route that changes the path (<c>strip_prefix</c>, <c>rewrite</c>), after YARP's path
/// transforms. Kestrel hands the path over decoded except for <c>%2F</c>, which YARP would encode a second time
/// (<c>%252F</c>); here every character is encoded once, so the upstream sees what the client sent: <c>%2F</c> stays
/// <c>%2F</c>, <c>é</c> goes as <c>%C3%A9</c>, and the query string is passed as received. Kestrel resolves <c>.</c> and
/// <c>..</c> segments before routing, so they cannot leave the prefix; a dot segment hidden behind an encoded slash or
/// backslash (<c>..%2F</c>) is refused with 400, as is a path that mixes <c>%25</c> with <c>%2F</c>, which the decoded
/// path cannot tell apart.
/// </summary>
internal static class UpstreamPath
{
    private static readonly SearchValues<char> ValidPathChars =
        SearchValues.Create("!$&'()*+,-./0123456789:;=@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~");

    public static async ValueTask ApplyAsync(RequestTransformContext context)
    {
        var http = context.HttpContext;
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? string.Empty;
        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var rawPath = query < 0 ? raw.AsSpan() : raw.AsSpan(0, query);
        var escapedPercent = rawPath.Contains("%25", StringComparison.OrdinalIgnoreCase);
        var path = context.Path.Value ?? string.Empty;
        if (escapedPercent && HasEncodedSeparator(rawPath) || HasDotSegment(path))
        {
            await ProblemResponse.WriteAsync(http, StatusCodes.Status400BadRequest, "The path has a dot segment or an ambiguous encoding that the gateway does not rewrite.");
            return;
        }

        var prefix = context.DestinationPrefix.AsSpan();
        if (path.Length > 0 && prefix.EndsWith("/", StringComparison.Ordinal))
        {
            prefix = prefix[..^1];
        }

        context.ProxyRequest.RequestUri = new Uri(string.Concat(prefix, Encode(path, keepPercent: !escapedPercent), http.Request.QueryString.Value), UriKind.Absolute);
    }

    /// <summary>Encodes <paramref name="path"/> once; a <c>%</c> is kept as is when it can only be Kestrel's undecoded <c>%2F</c>.</summary>
    internal static string Encode(string path, bool keepPercent)
    {
        var first = path.AsSpan().IndexOfAnyExcept(ValidPathChars);
        if (first < 0)
        {
            return path;
        }

        var builder = new StringBuilder(path.Length + 16);
        builder.Append(path, 0, first);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = first; i < path.Length; i++)
        {
            var c = path[i];
            if (ValidPathChars.Contains(c) || c == '%' && keepPercent)
            {
                builder.Append(c);
                continue;
            }

            var length = char.IsHighSurrogate(c) && i + 1 < path.Length
                ? Encoding.UTF8.GetBytes(path.AsSpan(i++, 2), utf8)
                : Encoding.UTF8.GetBytes(path.AsSpan(i, 1), utf8);
            foreach (var b in utf8[..length])
            {
                builder.Append('%').Append(HexUpper[b >> 4]).Append(HexUpper[b & 0xF]);
            }
        }

        return builder.ToString();
    }

    private const string HexUpper = "0123456789ABCDEF";

    private static bool HasEncodedSeparator(ReadOnlySpan<char> rawPath) =>
        rawPath.Contains("%2F", StringComparison.OrdinalIgnoreCase) || rawPath.Contains("%5C", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when a segment is <c>.</c> or <c>..</c>, taking <c>/</c>, <c>\</c>, <c>%2F</c> and <c>%5C</c> as separators.</summary>
    internal static bool HasDotSegment(string path)
    {
        var start = 0;
        for (var i = 0; i <= path.Length; i++)
        {
            var separator = i == path.Length ? 1
                : path[i] is '/' or '\\' ? 1
                : path[i] == '%' && i + 2 < path.Length && (path.AsSpan(i, 3).Equals("%2F", StringComparison.OrdinalIgnoreCase) || path.AsSpan(i, 3).Equals("%5C", StringComparison.OrdinalIgnoreCase)) ? 3
                : 0;
            if (separator == 0)
            {
                continue;
            }

            var segment = path.AsSpan(start, i - start);
            if (segment is "." or "..")
            {
                return true;
            }

            start = i + separator;
            i += separator - 1;
        }

        return false;
    }
}
