using System.Collections.Immutable;
using YamlDotNet.RepresentationModel;

namespace Gateway.Hosting.Configuration;

/// <summary>The <c>session</c> section: lifetimes, the cookie and the login upstream.</summary>
public static partial class GatewayConfigParser
{
    private static SessionConfig ReadSession(YamlNodeReader reader, YamlNode? node, ImmutableDictionary<string, UpstreamConfig> upstreams, TimeSpan? ttlOverride)
    {
        var mapping = reader.Mapping(node, "session", "ttl", "max_lifetime", "cookie", "secure_cookie", "login");
        var ttl = reader.Duration(YamlNodeReader.Child(mapping, "ttl"), "session.ttl") ?? DefaultSessionTtl;
        var maxLifetime = reader.Duration(YamlNodeReader.Child(mapping, "max_lifetime"), "session.max_lifetime") ?? DefaultSessionMaxLifetime;
        var cookie = reader.String(YamlNodeReader.Child(mapping, "cookie"), "session.cookie") ?? DefaultCookieName;
        if (!CookieNamePattern().IsMatch(cookie))
        {
            reader.Error("session.cookie", $"'{cookie}' is not a valid cookie name", YamlNodeReader.Child(mapping, "cookie"));
        }

        var secure = reader.Boolean(YamlNodeReader.Child(mapping, "secure_cookie"), "session.secure_cookie") ?? true;

        // Browsers drop a __Host- cookie unless it is Secure, has Path=/ and no Domain (the gateway sends the last two).
        if (!secure && cookie.StartsWith(HostCookiePrefix, StringComparison.Ordinal))
        {
            reader.Error("session.cookie", $"'{cookie}' uses the {HostCookiePrefix} prefix, which browsers only accept on a Secure cookie; it needs secure_cookie: true", YamlNodeReader.Child(mapping, "cookie"));
        }
        LoginConfig? login = null;
        var loginNode = reader.Mapping(YamlNodeReader.Child(mapping, "login"), "session.login", "upstream", "path");
        if (loginNode is not null)
        {
            var upstream = reader.String(YamlNodeReader.Child(loginNode, "upstream"), "session.login.upstream", required: true);
            var path = reader.String(YamlNodeReader.Child(loginNode, "path"), "session.login.path", required: true);
            if (upstream is not null && upstreams.Count > 0 && !upstreams.ContainsKey(upstream))
            {
                reader.Error("session.login.upstream", $"'{upstream}' is not defined under upstreams", YamlNodeReader.Child(loginNode, "upstream"));
            }

            if (path is not null && !path.StartsWith('/'))
            {
                reader.Error("session.login.path", $"'{path}' must start with '/'", YamlNodeReader.Child(loginNode, "path"));
            }

            if (upstream is not null && path is not null)
            {
                login = new LoginConfig(upstream, path);
            }
        }

        return new SessionConfig(ttlOverride ?? ttl, cookie, secure, login, maxLifetime);
    }
}
