using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Gateway.Cluster.Tests.Sessions;

/// <summary>Session calls against an edge process, without a cookie jar: each request carries only what the test gives it.</summary>
internal static class SessionHttp
{
    public const string AdminToken = "test-admin-token-0123456789abcdefghij";

    /// <summary>The edges' own clients keep cookies; this one never does, so no earlier answer's Set-Cookie rides along.</summary>
    private static readonly HttpClient NoCookies = new(new SocketsHttpHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(10) };

    public static string Config(string upstream) => $$"""
        upstreams: { users: { destinations: ["{{upstream}}"], timeout: 2s } }
        routes:
          - { id: private, path: "/api/private/{**rest}", upstream: users, auth: required, ratelimit: off }
        session:
          cookie: gw_test
          secure_cookie: false
          login: { upstream: users, path: /auth/verify }
        ratelimit:
          default: { requests: 100000, period: 1s }
        """;

    public static async Task<string> LoginAsync(ClusterNode edge, string user)
    {
        using var response = await NoCookies.PostAsJsonAsync(new Uri(edge.Client.BaseAddress!, "/auth/login"), new { username = user, password = user });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("token").GetString()!;
    }

    public static async Task<HttpResponseMessage> SendAsync(ClusterNode edge, HttpMethod method, string path, string? bearer = null, string? cookie = null)
    {
        using var request = CredentialRequest.Create(method, new Uri(edge.Client.BaseAddress!, path).ToString(), bearer, cookie);
        var response = await NoCookies.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    public static async Task<string?> ReasonAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.TryGetProperty("reason", out var reason) ? reason.GetString() : null;
    }
}
