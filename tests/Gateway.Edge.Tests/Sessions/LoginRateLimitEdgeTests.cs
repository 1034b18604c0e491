using System.Net;
using System.Reflection;
using System.Text;
using Gateway.Edge.RateLimiting;
using Gateway.Edge.Sessions;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Grains.Contracts;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Edge.Tests.Sessions;

/// <summary>Login limits through an embedded edge with the real grain limiter; client addresses vary by X-Forwarded-For.</summary>
public sealed class LoginRateLimitEdgeTests
{
    private const string TrustLoopback = "trusted_proxies: [\"127.0.0.0/8\"]";

    [Fact]
    public async Task Login_OneAddressSpentItsAllowanceForAUser_SameUserFromAnotherAddressStillLogsIn()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var edge = await TestEdge.StartAsync(SessionEdgeTests.Config(upstream.Address, TrustLoopback), $"--SESSION_SECRET={SessionEdgeTests.Secret}");
        await WarmAsync(edge, "203.0.113.1", "203.0.113.2");

        var attacker = new List<HttpStatusCode>();
        for (var i = 0; i < LoginRateLimits.PerUserAndIp.Burst + 1; i++)
        {
            using var attempt = await LoginAsync(edge, "203.0.113.1", "alice", "guess");
            attacker.Add(attempt.StatusCode);
        }

        using var victim = await LoginAsync(edge, "203.0.113.2", "alice", "alice");

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, (int)LoginRateLimits.PerUserAndIp.Burst), HttpStatusCode.TooManyRequests], attacker);
        Assert.Equal(HttpStatusCode.OK, victim.StatusCode);
    }

    [Fact]
    public async Task Login_LimiterUnavailableWithOnBackendFailureOpen_503FailsClosed()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var edge = await TestEdge.StartAsync(
            SessionEdgeTests.Config(upstream.Address, "ratelimit: { on_backend_failure: open }"),
            services => services.AddSingleton<IRateLimiter>(sp => new GrainRateLimiter(
                SilentGrains.Create(),
                sp.GetRequiredService<GatewayConfigStore>(),
                sp.GetRequiredService<GatewayMetrics>(),
                TimeProvider.System,
                new EdgeShare(),
                NullLogger<GrainRateLimiter>.Instance)),
            $"--SESSION_SECRET={SessionEdgeTests.Secret}");
        var before = upstream.Received.Count;

        using var response = await LoginAsync(edge, null, "alice", "alice");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, upstream.Received.Count);
    }

    /// <summary>Activates the login buckets (a cold activation on a busy machine can miss the 50 ms budget, and login limits fail closed).</summary>
    private static async Task WarmAsync(TestEdge edge, params string[] addresses)
    {
        var limiter = edge.Services.GetRequiredService<GrainRateLimiter>();
        foreach (var address in addresses)
        {
            await limiter.PeekAsync(LoginRateLimits.IpPolicyName, LoginRateLimits.PerIp, $"login-ip:{address}", CancellationToken.None);
            await limiter.PeekAsync(LoginRateLimits.UserIpPolicyName, LoginRateLimits.PerUserAndIp, $"login-user-ip:{address}|alice", CancellationToken.None);
        }

        await limiter.PeekAsync(LoginRateLimits.UserPolicyName, LoginRateLimits.PerUser, "login-user:alice", CancellationToken.None);
    }

    private static async Task<HttpResponseMessage> LoginAsync(TestEdge edge, string? forwardedFor, string user, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/auth/login")
        {
            Content = new StringContent($"{{\"username\":\"{user}\",\"password\":\"{password}\"}}", Encoding.UTF8, "application/json"),
        };
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        return await edge.Client.SendAsync(request);
    }
}

/// <summary>A grain factory whose rate-limit grains never answer, as when no silo does.</summary>
public class SilentGrains : DispatchProxy
{
    public static IGrainFactory Create() => DispatchProxy.Create<IGrainFactory, SilentGrains>();

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
        targetMethod is { Name: nameof(IGrainFactory.GetGrain), ReturnType: var type } && type == typeof(IRateLimitShardGrain)
            ? DispatchProxy.Create<IRateLimitShardGrain, SilentGrain>()
            : throw new NotSupportedException(targetMethod?.Name);
}

/// <summary>A rate-limit grain whose calls never complete.</summary>
public class SilentGrain : DispatchProxy
{
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.ReturnType switch
    {
        var type when type == typeof(ValueTask<RateLimitGrant>) => new ValueTask<RateLimitGrant>(new TaskCompletionSource<RateLimitGrant>().Task),
        var type when type == typeof(ValueTask<RateLimitGrants>) => new ValueTask<RateLimitGrants>(new TaskCompletionSource<RateLimitGrants>().Task),
        _ => throw new NotSupportedException(targetMethod?.Name),
    };
}
