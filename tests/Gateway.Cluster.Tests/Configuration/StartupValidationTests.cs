namespace Gateway.Cluster.Tests.Configuration;

/// <summary>The real programs refuse to start on bad settings, with one line per error naming what to fix.</summary>
public sealed class StartupValidationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-startup-").FullName;

    [Theory]
    [InlineData("Gateway.Edge")]
    [InlineData("Gateway.Silo")]
    public async Task Start_InvalidGatewayYml_ExitsWithCode2ListingEveryError(string program)
    {
        var path = Path.Combine(_directory, "gateway.yml");
        await File.WriteAllTextAsync(path, """
            upstreams: { a: { destinations: ["ftp://x"] } }
            routes: [ { id: r, path: /x, upstream: missing } ]
            """);

        await using var process = ChildProcess.StartDotnet(program, program, Environment(path));
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        var errors = process.Output.Where(line => line.StartsWith("configuration error:", StringComparison.Ordinal)).ToList();
        Assert.Contains(errors, line => line.Contains("upstreams.a.destinations[0]", StringComparison.Ordinal));
        Assert.Contains(errors, line => line.Contains("routes[0].upstream", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Gateway.Edge", "huge-timeout", "upstreams.a.timeout")]
    [InlineData("Gateway.Silo", "deep-nesting", "levels deep")]
    [InlineData("Gateway.Edge", "list-key", "plain names")]
    public async Task Start_HostileGatewayYml_ExitsWithCode2AndOneLineNoStackTrace(string program, string kind, string expected)
    {
        var path = Path.Combine(_directory, "gateway.yml");
        var routes = "routes: [ { id: r, path: /x, upstream: a } ]";
        await File.WriteAllTextAsync(path, kind switch
        {
            "huge-timeout" => "upstreams: { a: { destinations: [\"http://127.0.0.1:1\"], timeout: 100000000000000000000000h } }\n" + routes,
            "deep-nesting" => "upstreams: { a: { destinations: [\"http://127.0.0.1:1\"] } }\nroutes: " + new string('[', 5000) + new string(']', 5000),
            _ => "upstreams:\n  ? [a, b]\n  : { destinations: [\"http://127.0.0.1:1\"] }\n" + routes,
        });

        await using var process = ChildProcess.StartDotnet(program, program, Environment(path));
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        Assert.Contains(process.Output, line => line.StartsWith("configuration error:", StringComparison.Ordinal) && line.Contains(expected, StringComparison.Ordinal));
        Assert.DoesNotContain(process.Output, line => line.TrimStart().StartsWith("at ", StringComparison.Ordinal) || line.Contains("Unhandled exception", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_InvalidEnvironment_ExitsWithCode2NamingTheVariable()
    {
        var path = Path.Combine(_directory, "gateway.yml");
        await File.WriteAllTextAsync(path, "upstreams: { a: { destinations: [\"http://127.0.0.1:1\"] } }\nroutes: [ { id: r, path: /x, upstream: a } ]");
        var environment = Environment(path);
        environment["ORLEANS_SILO_PORT"] = "not-a-port";
        environment["REDIS_PASSWORD"] = "never-print-me";

        await using var process = ChildProcess.StartDotnet("edge", "Gateway.Edge", environment);
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        var error = Assert.Single(process.Output, line => line.StartsWith("configuration error:", StringComparison.Ordinal));
        Assert.Contains("ORLEANS_SILO_PORT", error, StringComparison.Ordinal);
        Assert.DoesNotContain(process.Output, line => line.Contains("never-print-me", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Gateway.Edge")]
    [InlineData("Gateway.Silo")]
    public async Task Start_AdminTokenShorterThan32Bytes_ExitsWithCode2NamingAdminToken(string program)
    {
        var path = Path.Combine(_directory, "gateway.yml");
        await File.WriteAllTextAsync(path, "upstreams: { a: { destinations: [\"http://127.0.0.1:1\"] } }\nroutes: [ { id: r, path: /x, upstream: a } ]");
        var environment = Environment(path);
        environment["ADMIN_TOKEN"] = "too-short-admin-token";

        await using var process = ChildProcess.StartDotnet(program, program, environment);
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        var error = Assert.Single(process.Output, line => line.StartsWith("configuration error:", StringComparison.Ordinal));
        Assert.Contains("ADMIN_TOKEN", error, StringComparison.Ordinal);
        Assert.DoesNotContain(process.Output, line => line.Contains("too-short-admin-token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_InvalidManagementUrls_ExitsWithCode2NamingManagementUrls()
    {
        var path = Path.Combine(_directory, "gateway.yml");
        await File.WriteAllTextAsync(path, "upstreams: { a: { destinations: [\"http://127.0.0.1:1\"] } }\nroutes: [ { id: r, path: /x, upstream: a } ]");
        var environment = Environment(path);
        environment["MANAGEMENT_URLS"] = "0.0.0.0:8082";

        await using var process = ChildProcess.StartDotnet("edge", "Gateway.Edge", environment);
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        var error = Assert.Single(process.Output, line => line.StartsWith("configuration error:", StringComparison.Ordinal));
        Assert.Contains("MANAGEMENT_URLS", error, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static Dictionary<string, string> Environment(string configPath) => new()
    {
        ["GATEWAY_CONFIG"] = configPath,
        ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort.Next()}",
        ["ORLEANS_SILO_PORT"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ORLEANS_GATEWAY_PORT"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
