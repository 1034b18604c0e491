namespace Gateway.SampleUpstream;

/// <summary>
/// The demo identities the login check knows: alice/alice (tier pro, role admin) and bob/bob (tier free). The test
/// upstream compiles this same file, so the sample and the tests can never disagree about who may log in.
/// </summary>
internal static class DemoIdentities
{
    /// <summary>The identity answer (<c>user_id</c>, <c>tier</c>, <c>roles</c>) for valid credentials, null for anything else.</summary>
    public static object? Verify(string? user, string? password) => (user, password) switch
    {
        ("alice", "alice") => new { user_id = "alice", tier = "pro", roles = (string[])["admin"] },
        ("bob", "bob") => new { user_id = "bob", tier = "free", roles = Array.Empty<string>() },
        _ => null,
    };
}
