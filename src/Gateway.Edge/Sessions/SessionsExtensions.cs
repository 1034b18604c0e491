using Gateway.Grains.Contracts;
using Gateway.Hosting.Configuration;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Edge.Sessions;

/// <summary>Registration of the edge's session handling.</summary>
internal static partial class SessionsExtensions
{
    /// <summary>Reads the session keys (failing start when they are missing or short) and registers the session services.</summary>
    public static WebApplicationBuilder AddGatewaySessions(this WebApplicationBuilder builder, HostSettings settings)
    {
        var keys = SessionKeys.Read(builder.Configuration, settings.IsEmbedded);
        var services = builder.Services;
        services.AddSingleton(keys);
        services.AddSingleton<SessionTokenCodec>();
        services.AddSingleton<SessionCache>();
        services.AddSingleton(provider => ActivatorUtilities.CreateInstance<SessionAnswers>(
            provider,
            new Func<string, Task<SessionLookup>>(provider.GetRequiredService<IGrainFactory>().TouchSession)));
        services.AddSingleton<SessionResolver>();
        services.AddSingleton<LoginRateLimits>();
        services.AddSingleton<LoginService>();
        services.AddSingleton<ITransformProvider, IdentityHeaderTransforms>();
        services.AddHttpClient<LoginUpstream>(client => client.Timeout = Timeout.InfiniteTimeSpan).RemoveAllLoggers();
        return builder;
    }

    /// <summary>Maps the session endpoints; warns once at start when the signing key was generated.</summary>
    public static WebApplication MapGatewaySessions(this WebApplication app)
    {
        app.MapSessionEndpoints(app.Configuration[EnvironmentVariables.AdminToken]);
        if (app.Services.GetRequiredService<SessionKeys>().Generated)
        {
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Edge.Sessions");
            app.Lifetime.ApplicationStarted.Register(() => LogGeneratedKey(logger, EnvironmentVariables.SessionSecret));
        }

        return app;
    }

    private static Task<SessionLookup> TouchSession(this IGrainFactory grains, string sessionId) =>
        grains.GetGrain<ISessionGrain>(sessionId).TouchAsync();

    [LoggerMessage(EventId = LogEvents.SessionKeyGenerated, Level = LogLevel.Warning, Message = "No {Variable}: sessions are signed with a random key and end when this process does; set it outside development")]
    private static partial void LogGeneratedKey(ILogger logger, string variable);
}
