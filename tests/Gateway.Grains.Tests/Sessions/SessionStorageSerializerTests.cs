using System.Text;
using System.Text.Json.Serialization;
using Gateway.Grains.Sessions;

namespace Gateway.Grains.Tests.Sessions;

public sealed class SessionStorageSerializerTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void Serialize_SessionState_PlainJsonWithoutTypeNames()
    {
        var state = new SessionState { UserId = "alice", Tier = "pro", Roles = ["admin"], CreatedAt = Now, IdleTtlMilliseconds = 1_800_000, ExpiresAt = Now.AddMinutes(30) };

        var json = Encoding.UTF8.GetString(new SessionStorageSerializer().Serialize(state).ToArray());

        Assert.Equal("{\"user_id\":\"alice\",\"tier\":\"pro\",\"roles\":[\"admin\"],\"created_at\":\"2026-01-02T03:04:05+00:00\",\"idle_ttl_ms\":1800000,\"max_lifetime_ms\":0,\"expires_at\":\"2026-01-02T03:34:05+00:00\"}", json);
    }

    [Fact]
    public void Deserialize_StoredByARenamedType_ReadsIntoTheCurrentType()
    {
        var serializer = new SessionStorageSerializer();
        var stored = serializer.Serialize(new RenamedSessionState { Who = "bob", Roles = ["ops"], Expiry = Now });

        var state = serializer.Deserialize<SessionState>(stored)!;

        Assert.Equal("bob", state.UserId);
        Assert.Equal(["ops"], state.Roles);
        Assert.Equal(Now, state.ExpiresAt);
    }

    [Fact]
    public void RoundTrip_UserSessionsState_KeepsEntries()
    {
        var serializer = new SessionStorageSerializer();
        var index = new UserSessionsState();
        index.Sessions["s1"] = Now;

        var read = serializer.Deserialize<UserSessionsState>(serializer.Serialize(index))!;

        Assert.Equal(Now, read.Sessions["s1"]);
    }

    [Fact]
    public void Deserialize_StoredBeforeMaxLifetime_LoadsWithoutOne()
    {
        var stored = BinaryData.FromString("{\"user_id\":\"alice\",\"tier\":null,\"roles\":[],\"created_at\":\"2026-01-02T03:04:05+00:00\",\"idle_ttl_ms\":1800000,\"expires_at\":\"2026-01-02T03:34:05+00:00\"}");

        var state = new SessionStorageSerializer().Deserialize<SessionState>(stored)!;

        Assert.Equal("alice", state.UserId);
        Assert.Equal(0, state.MaxLifetimeMilliseconds);
        Assert.Equal(Now.AddMinutes(30), state.ExpiresAt);
    }

    [Fact]
    public void EntryExpiryFor_SessionTtl_OutlivesTtlPlusPersistInterval()
    {
        var ttl = TimeSpan.FromMinutes(30);

        Assert.True(SessionStorage.EntryExpiryFor(ttl, TimeSpan.FromHours(24)) > ttl + (ttl / 10));
    }

    [Fact]
    public void EntryExpiryFor_MaxLifetimeShorterThanTtl_BoundedByMaxLifetime()
    {
        var maxLifetime = TimeSpan.FromMinutes(10);

        var expiry = SessionStorage.EntryExpiryFor(TimeSpan.FromHours(8), maxLifetime);

        Assert.InRange(expiry, maxLifetime, (maxLifetime * 2) + TimeSpan.FromMinutes(1));
    }

    /// <summary>The same stored shape under another .NET name and other property names, as after a refactoring.</summary>
    private sealed class RenamedSessionState
    {
        [JsonPropertyName("user_id")]
        public string Who { get; set; } = string.Empty;

        [JsonPropertyName("roles")]
        public List<string> Roles { get; set; } = [];

        [JsonPropertyName("expires_at")]
        public DateTimeOffset Expiry { get; set; }
    }
}
