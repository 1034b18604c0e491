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

    /// <summary>
    /// Logs the user in (password = user name) and returns the token. Login fails closed (503) when its limiter misses
    /// the decision budget, as a cold bucket grain can on a loaded machine; that is retried, anything else fails.
    /// </summary>
    public static async Task<string> LoginAsync(ClusterNode edge, string user)
    {
        var body = await Eventually.UntilAsync(
            async () =>
            {
                using var response = await NoCookies.PostAsJsonAsync(new Uri(edge.Client.BaseAddress!, "/auth/login"), new { username = user, password = user });
                return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            },
            answer => answer.StatusCode != HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(30),
            $"{user}'s login on {edge.Process.Name} answering other than 503",
            TimeSpan.FromMilliseconds(250));
        Assert.Equal(HttpStatusCode.OK, body.StatusCode);
        using var json = JsonDocument.Parse(body.Body);
        return json.RootElement.GetProperty("token").GetString()!;
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
