namespace Gateway.Testing;

/// <summary>Requests that carry exactly the gateway credentials a test gives them: a bearer token, a cookie header, other headers.</summary>
public static class CredentialRequest
{
    /// <summary>A request with <c>Authorization: Bearer</c> and <c>Cookie</c> added as given (unvalidated, so tests can send odd spellings).</summary>
    public static HttpRequestMessage Create(HttpMethod method, string path, string? bearer = null, string? cookie = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (bearer is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {bearer}");
        }

        if (cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookie);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }
}
