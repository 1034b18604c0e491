using System.Buffers.Text;
using System.Text;
using Gateway.Edge.Sessions;

namespace Gateway.Edge.Tests.Sessions;

public sealed class SessionTokenCodecTests
{
    private static readonly SessionKey KeyA = new(Encoding.UTF8.GetBytes("key-a-0123456789abcdef0123456789abcdef"));
    private static readonly SessionKey KeyB = new(Encoding.UTF8.GetBytes("key-b-0123456789abcdef0123456789abcdef"));

    private static SessionTokenCodec Codec(SessionKey current, SessionKey? previous = null) => new(new SessionKeys(current, previous, generated: false));

    [Fact]
    public void Issue_NewSession_HasVersionKeyIdRandomIdAndMac()
    {
        var sessionId = SessionTokenCodec.NewSessionId();

        var token = Codec(KeyA).Issue(sessionId);

        var parts = token.Split('.');
        Assert.Equal(4, parts.Length);
        Assert.Equal("v1", parts[0]);
        Assert.Equal(KeyA.Id, parts[1]);
        Assert.Equal(sessionId, parts[2]);
        Assert.Equal(24, Base64Url.DecodeFromChars(parts[2]).Length); // 192 random bits
        Assert.Equal(32, Base64Url.DecodeFromChars(parts[3]).Length); // HMAC-SHA256
        Assert.Equal(SessionTokenCodec.TokenLength, token.Length);
    }

    [Fact]
    public void NewSessionId_ManyCalls_AllDistinct()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => SessionTokenCodec.NewSessionId()).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(1000, ids.Count);
    }

    [Fact]
    public void KeyId_DerivedFromKey_DiffersPerKeyAndRevealsNoSecret()
    {
        Assert.NotEqual(KeyA.Id, KeyB.Id);
        Assert.Equal(KeyA.Id, new SessionKey(Encoding.UTF8.GetBytes("key-a-0123456789abcdef0123456789abcdef")).Id);
        Assert.DoesNotContain("key-a", KeyA.Id, StringComparison.Ordinal);
        Assert.DoesNotContain("key-a", KeyA.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_IssuedToken_ReturnsSessionId()
    {
        var codec = Codec(KeyA);
        var sessionId = SessionTokenCodec.NewSessionId();

        var error = codec.Verify(codec.Issue(sessionId), out var verified);

        Assert.Equal(TokenError.None, error);
        Assert.Equal(sessionId, verified.SessionId);
        Assert.False(verified.SignedWithPrevious);
    }

    [Theory]
    [InlineData(3)] // key id
    [InlineData(12)] // session id
    [InlineData(60)] // mac
    public void Verify_OneCharacterChanged_BadSignature(int position)
    {
        var codec = Codec(KeyA, KeyB);
        var token = codec.Issue(SessionTokenCodec.NewSessionId()).ToCharArray();
        token[position] = token[position] == 'A' ? 'B' : 'A';

        Assert.Equal(TokenError.BadSignature, codec.Verify(new string(token), out _));
    }

    [Fact]
    public void Verify_MacFromAnotherSession_BadSignature()
    {
        var codec = Codec(KeyA);
        var first = codec.Issue(SessionTokenCodec.NewSessionId());
        var second = codec.Issue(SessionTokenCodec.NewSessionId());
        var spliced = first[..first.LastIndexOf('.')] + second[second.LastIndexOf('.')..];

        Assert.Equal(TokenError.BadSignature, codec.Verify(spliced, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-token")]
    [InlineData("v2.AAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("v1.AAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("v1.AAAAAAAA.AAAAAAAAAAAAAAAA+AAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Verify_WrongShape_Malformed(string token)
    {
        Assert.Equal(TokenError.Malformed, Codec(KeyA).Verify(token, out _));
    }

    [Fact]
    public void Verify_Null_Malformed()
    {
        Assert.Equal(TokenError.Malformed, Codec(KeyA).Verify(null, out _));
    }

    [Fact]
    public void Verify_SignedWithPreviousKey_AcceptedAndFlagged()
    {
        var sessionId = SessionTokenCodec.NewSessionId();
        var oldToken = Codec(KeyA).Issue(sessionId);
        var rotated = Codec(KeyB, previous: KeyA);

        var error = rotated.Verify(oldToken, out var verified);

        Assert.Equal(TokenError.None, error);
        Assert.Equal(sessionId, verified.SessionId);
        Assert.True(verified.SignedWithPrevious);
        Assert.NotEqual(oldToken, rotated.Issue(sessionId));
        Assert.Equal(TokenError.None, rotated.Verify(rotated.Issue(sessionId), out var reissued));
        Assert.False(reissued.SignedWithPrevious);
    }

    [Fact]
    public void Verify_SignedWithUnknownKey_BadSignature()
    {
        var token = Codec(KeyA).Issue(SessionTokenCodec.NewSessionId());

        Assert.Equal(TokenError.BadSignature, Codec(KeyB).Verify(token, out _));
    }

    [Fact]
    public void Verify_ForgedWithOwnKeyButKnownKeyId_BadSignature()
    {
        // An attacker who knows the key id (it is public) but not the key.
        var sessionId = SessionTokenCodec.NewSessionId();
        var forger = Codec(KeyB).Issue(sessionId);
        var forged = forger.Replace($".{KeyB.Id}.", $".{KeyA.Id}.", StringComparison.Ordinal);

        Assert.Equal(TokenError.BadSignature, Codec(KeyA).Verify(forged, out _));
    }
}
