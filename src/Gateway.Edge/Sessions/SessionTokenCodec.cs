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

    private static readonly int SessionStart = Version.Length + 1 + KeyIdChars + 1;

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
        if (token is null)
        {
            return TokenError.Malformed;
        }

        var error = Verify(token.AsSpan(), out var signedWithPrevious);
        if (error == TokenError.None)
        {
            verified = new VerifiedToken(SessionIdOf(token).ToString(), signedWithPrevious);
        }

        return error;
    }

    /// <summary>Verifies a token where it lies (a header's characters): no allocation.</summary>
    public TokenError Verify(ReadOnlySpan<char> token, out bool signedWithPrevious)
    {
        signedWithPrevious = false;
        if (token.Length != TokenLength)
        {
            return TokenError.Malformed;
        }

        var keyIdStart = Version.Length + 1;
        var macStart = SessionStart + SessionIdChars + 1;
        if (!token.StartsWith(Version) || token[Version.Length] != '.' || token[SessionStart - 1] != '.' || token[macStart - 1] != '.')
        {
            return TokenError.Malformed;
        }

        var keyId = token.Slice(keyIdStart, KeyIdChars);
        var mac = token[macStart..];
        if (!Base64Url.IsValid(keyId) || !Base64Url.IsValid(SessionIdOf(token)) || !Base64Url.IsValid(mac))
        {
            return TokenError.Malformed;
        }

        var key = keys.Find(keyId);
        if (key is null)
        {
            return TokenError.BadSignature;
        }

        // Base64url characters only (checked above): one byte each.
        Span<byte> signed = stackalloc byte[macStart - 1];
        System.Text.Ascii.FromUtf16(token[..(macStart - 1)], signed, out _);
        Span<byte> expected = stackalloc byte[MacBytes];
        HMACSHA256.HashData(key.Secret, signed, expected);
        Span<char> expectedChars = stackalloc char[MacChars];
        Base64Url.EncodeToChars(expected, expectedChars);

        // Compare the canonical encoding, so that no second spelling of a signature verifies.
        if (!CryptographicOperations.FixedTimeEquals(MemoryMarshalBytes(expectedChars), MemoryMarshalBytes(mac)))
        {
            return TokenError.BadSignature;
        }

        signedWithPrevious = !ReferenceEquals(key, keys.Current);
        return TokenError.None;
    }

    /// <summary>The session id's characters in a token of the right length.</summary>
    public static ReadOnlySpan<char> SessionIdOf(ReadOnlySpan<char> token) => token.Slice(SessionStart, SessionIdChars);

    private static bool IsSessionId(string value) => value.Length == SessionIdChars && Base64Url.IsValid(value);

    private static byte[] Sign(SessionKey key, string signed) => HMACSHA256.HashData(key.Secret, Encoding.ASCII.GetBytes(signed));

    private static ReadOnlySpan<byte> MemoryMarshalBytes(ReadOnlySpan<char> chars) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(chars);
}
