using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Gateway.Cluster.Tests.Sessions;

/// <summary>Session calls against an edge process, without a cookie jar: each request carries only what the test gives it.</summary>
internal static class SessionHttp
{
    public const string AdminToken = "test-admin-token-0123456789abcdefghij";

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
        using var response = await edge.Client.PostAsJsonAsync(new Uri("/auth/login", UriKind.Relative), new { username = user, password = user });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("token").GetString()!;
    }

    public static async Task<HttpResponseMessage> SendAsync(ClusterNode edge, HttpMethod method, string path, string? bearer = null, string? cookie = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (bearer is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {bearer}");
        }

        if (cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookie);
        }

        return await edge.Client.SendAsync(request);
    }

    public static async Task<string?> ReasonAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.TryGetProperty("reason", out var reason) ? reason.GetString() : null;
    }
}
