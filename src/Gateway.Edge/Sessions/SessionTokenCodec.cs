using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Edge.Sessions;

/// <summary>Why a token was refused before any grain was asked.</summary>
internal enum TokenError
{
    None,

    /// <summary>Not the shape of a token.</summary>
    Malformed,

    /// <summary>Well formed, but signed with an unknown key or a signature that does not match.</summary>
    BadSignature,
}

/// <summary>A token whose signature verified.</summary>
/// <param name="SessionId">The session id (the session grain's key).</param>
/// <param name="SignedWithPrevious">Signed with <c>SESSION_SECRET_PREVIOUS</c>: the caller re-issues it with the current key.</param>
internal readonly record struct VerifiedToken(string SessionId, bool SignedWithPrevious);

/// <summary>
/// Session tokens: <c>v1.&lt;key id&gt;.&lt;session id&gt;.&lt;mac&gt;</c>, every part base64url without padding. The session id is
/// 192 random bits; the key id names the signing key; the mac is HMAC-SHA256 over <c>v1.&lt;key id&gt;.&lt;session id&gt;</c>,
/// compared in constant time. Verification needs no I/O, so forged or malformed tokens never reach a grain.
/// </summary>
internal sealed class SessionTokenCodec(SessionKeys keys)
{
    public const string Version = "v1";
    public const int KeyIdBytes = 6;
    public const int SessionIdBytes = 24;
    public const int MacBytes = 32;

    private static readonly int KeyIdChars = Base64Url.GetEncodedLength(KeyIdBytes);
    private static readonly int SessionIdChars = Base64Url.GetEncodedLength(SessionIdBytes);
    private static readonly int MacChars = Base64Url.GetEncodedLength(MacBytes);

    /// <summary>The length of every token.</summary>
    public static readonly int TokenLength = Version.Length + 1 + KeyIdChars + 1 + SessionIdChars + 1 + MacChars;

    public SessionKeys Keys => keys;

    /// <summary>A new random session id.</summary>
    public static string NewSessionId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SessionIdBytes));

    /// <summary>The token of a session, signed with the current key.</summary>
    public string Issue(string sessionId)
    {
        if (!IsSessionId(sessionId))
        {
            throw new ArgumentException("Not a session id.", nameof(sessionId));
        }

        var key = keys.Current;
        var signed = $"{Version}.{key.Id}.{sessionId}";
        return $"{signed}.{Base64Url.EncodeToString(Sign(key, signed))}";
    }

    public TokenError Verify(string? token, out VerifiedToken verified)
    {
        verified = default;
        if (token is null || token.Length != TokenLength)
        {
            return TokenError.Malformed;
        }

        var span = token.AsSpan();
        var keyIdStart = Version.Length + 1;
        var sessionStart = keyIdStart + KeyIdChars + 1;
        var macStart = sessionStart + SessionIdChars + 1;
        if (!span.StartsWith(Version) || span[Version.Length] != '.' || span[sessionStart - 1] != '.' || span[macStart - 1] != '.')
        {
            return TokenError.Malformed;
        }

        var keyId = span.Slice(keyIdStart, KeyIdChars);
        var sessionId = span.Slice(sessionStart, SessionIdChars);
        var mac = span[macStart..];
        if (!Base64Url.IsValid(keyId) || !Base64Url.IsValid(sessionId) || !Base64Url.IsValid(mac))
        {
            return TokenError.Malformed;
        }

        var key = keys.Find(keyId);
        if (key is null)
        {
            return TokenError.BadSignature;
        }

        Span<byte> expected = stackalloc byte[MacBytes];
        HMACSHA256.HashData(key.Secret, Encoding.ASCII.GetBytes(token, 0, macStart - 1), expected);
        Span<char> expectedChars = stackalloc char[MacChars];
        Base64Url.EncodeToChars(expected, expectedChars);

        // Compare the canonical encoding, so that no second spelling of a signature verifies.
        if (!CryptographicOperations.FixedTimeEquals(MemoryMarshalBytes(expectedChars), MemoryMarshalBytes(mac)))
        {
            return TokenError.BadSignature;
        }

        verified = new VerifiedToken(sessionId.ToString(), !ReferenceEquals(key, keys.Current));
        return TokenError.None;
    }

    private static bool IsSessionId(string value) => value.Length == SessionIdChars && Base64Url.IsValid(value);

    private static byte[] Sign(SessionKey key, string signed) => HMACSHA256.HashData(key.Secret, Encoding.ASCII.GetBytes(signed));

    private static ReadOnlySpan<byte> MemoryMarshalBytes(ReadOnlySpan<char> chars) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(chars);
}
