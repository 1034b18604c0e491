using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Gateway.Edge.Tests.Sessions;

/// <summary>A cookie-less client of an edge, so that each request carries exactly the credentials the test gives it.</summary>
internal sealed class SessionTestClient(Uri baseAddress) : IDisposable
{
    private readonly HttpClient _http = new(new HttpClientHandler { UseCookies = false }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public HttpClient Http => _http;

    public async Task<LoginResponse> LoginAsync(string user, string password)
    {
        using var response = await _http.PostAsJsonAsync(new Uri("/auth/login", UriKind.Relative), new { username = user, password });
        var body = await response.Content.ReadAsStringAsync();
        var cookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToList() : [];
        var cacheControl = response.Headers.NonValidated.TryGetValues("Cache-Control", out var cache) ? cache.ToString() : null;
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return new LoginResponse(response.StatusCode, null, null, body, cookies, cacheControl);
        }

        using var json = JsonDocument.Parse(body);
        return new LoginResponse(response.StatusCode, json.RootElement.GetProperty("token").GetString(), json.RootElement.GetProperty("user_id").GetString(), body, cookies, cacheControl);
    }

    public Task<HttpResponseMessage> GetAsync(string path, string? bearer = null, string? cookie = null, IReadOnlyDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Get, path, bearer, cookie, headers);

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? bearer = null, string? cookie = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        using var request = CredentialRequest.Create(method, path, bearer, cookie, headers);
        return await _http.SendAsync(request);
    }

    /// <summary>The <c>reason</c> of a 401 problem answer.</summary>
    public static async Task<string?> ReasonAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.TryGetProperty("reason", out var reason) ? reason.GetString() : null;
    }

    public void Dispose() => _http.Dispose();
}

internal sealed record LoginResponse(HttpStatusCode Status, string? Token, string? UserId, string Body, IReadOnlyList<string> SetCookies, string? CacheControl = null);
