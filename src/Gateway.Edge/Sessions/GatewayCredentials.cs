using Microsoft.Extensions.Primitives;

namespace Gateway.Edge.Sessions;

/// <summary>
/// Reads the gateway's credentials from a request, and recognises them in every spelling so that none is forwarded.
/// Reading is strict: the session cookie is matched by its exact name (ordinal), as the contract says, not by ASP.NET
/// Core's case-insensitive, percent-decoding <c>Request.Cookies</c>. Stripping is lenient: any case, surrounding
/// whitespace, a percent-encoded name, a quoted value, several <c>Cookie</c> headers, <c>,</c> as well as <c>;</c>
/// between cookies, since some upstream framework may read any of those spellings as the gateway's cookie.
/// </summary>
internal static class GatewayCredentials
{
    public const string BearerScheme = "Bearer";

    private const int MaxDecodeRounds = 4;

    /// <summary>The value of the first non-empty cookie named exactly <paramref name="name"/>, unquoted; null when none.</summary>
    public static string? FindCookie(StringValues cookieHeaders, string name)
    {
        foreach (var header in cookieHeaders)
        {
            var rest = (header ?? string.Empty).AsSpan();
            while (!rest.IsEmpty)
            {
                var semicolon = rest.IndexOf(';');
                var pair = (semicolon < 0 ? rest : rest[..semicolon]).Trim();
                rest = semicolon < 0 ? [] : rest[(semicolon + 1)..];
                var equals = pair.IndexOf('=');
                if (equals <= 0 || !pair[..equals].TrimEnd().SequenceEqual(name))
                {
                    continue;
                }

                var value = pair[(equals + 1)..].TrimStart();
                if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
                {
                    value = value[1..^1];
                }

                if (!value.IsEmpty)
                {
                    return value.ToString();
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The <c>Cookie</c> header values without any cookie that <see cref="IsGatewayCookie"/> recognises, joined with
    /// <c>"; "</c>; null when nothing is left. False (and the input untouched) when there was nothing to remove.
    /// </summary>
    public static bool TryStripCookie(IEnumerable<string> cookieHeaders, string name, out string? kept)
    {
        List<string>? remaining = null;
        var removed = false;
        foreach (var header in cookieHeaders)
        {
            foreach (var segment in header.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (IsGatewayCookie(segment, name))
                {
                    removed = true;
                }
                else
                {
                    (remaining ??= []).Add(segment);
                }
            }
        }

        kept = remaining is null ? null : string.Join("; ", remaining);
        return removed;
    }

    /// <summary>
    /// True when a <c>;</c>-separated cookie segment names the gateway's cookie in any spelling: any case, whitespace or
    /// quotes around the name, percent-encoded (even more than once), or hidden after a <c>,</c>.
    /// </summary>
    public static bool IsGatewayCookie(string segment, string name)
    {
        foreach (var part in segment.Split(','))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                continue;
            }

            var candidate = part[..equals].Trim().Trim('"').Trim();
            for (var round = 0; round < MaxDecodeRounds; round++)
            {
                if (candidate.Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }

                var decoded = Uri.UnescapeDataString(candidate).Trim().Trim('"').Trim();
                if (decoded == candidate)
                {
                    break;
                }

                candidate = decoded;
            }
        }

        return false;
    }

    /// <summary>
    /// True for an <c>Authorization</c> value whose scheme is Bearer in any case and whose token has the shape of a
    /// gateway session token (<c>v1.…</c>), whatever whitespace separates them, also as one of several comma-joined credentials.
    /// </summary>
    public static bool IsGatewayBearer(string? authorization)
    {
        foreach (var part in (authorization ?? string.Empty).AsSpan().Split(','))
        {
            if (IsGatewayBearerCredential((authorization ?? string.Empty).AsSpan()[part]))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsGatewayBearerCredential(ReadOnlySpan<char> credential)
    {
        var value = credential.Trim();
        var space = value.IndexOfAny(' ', '\t');
        if (space < 0 || !value[..space].Equals(BearerScheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var token = value[space..].Trim();
        if (token.Length >= 2 && token[0] == '"' && token[^1] == '"')
        {
            token = token[1..^1];
        }

        return token.StartsWith(SessionTokenCodec.Version + ".", StringComparison.OrdinalIgnoreCase);
    }
}
