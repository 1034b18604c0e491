using Gateway.Grains;
using Gateway.Grains.RateLimiting;
using Gateway.Grains.Sessions;
using Gateway.Hosting.Configuration;
using Gateway.Hosting.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Persistence;
using StackExchange.Redis;

namespace Gateway.Hosting.Clustering;

/// <summary>Orleans silo and client settings shared by the silo process and the edge.</summary>
public static class OrleansHostingExtensions
{
    /// <summary>How long an edge waits for any grain call before giving up (Orleans' default is 30 s).</summary>
    public static readonly TimeSpan GrainCallTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Configures a silo: localhost clustering and in-memory state in embedded mode; Redis membership and Redis
    /// session storage otherwise. Failure detection is tuned so that a killed silo is declared dead in about two seconds.
    /// </summary>
    public static ISiloBuilder ConfigureGatewaySilo(this ISiloBuilder silo, HostSettings settings, RedisConnection? redis)
    {
        silo.Configure<ClusterOptions>(options =>
        {
            options.ClusterId = settings.ClusterId;
            options.ServiceId = settings.ServiceId;
        });

        if (settings.IsEmbedded || redis is null)
        {
            silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, serviceId: settings.ServiceId, clusterId: settings.ClusterId);
            silo.AddMemoryGrainStorage(StorageNames.Sessions, options => options.GrainStorageSerializer = SessionStorage.Serializer);
            silo.AddMemoryGrainStorage(StorageNames.RateLimits);
        }
        else
        {
            silo.ConfigureEndpoints(settings.AdvertisedIp, settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: true);
            silo.UseRedisClustering(options =>
            {
                options.ConfigurationOptions = redis.Options;
                options.CreateMultiplexer = _ => redis.GetSharedAsync();
            });
            silo.AddRedisGrainStorage(StorageNames.Sessions, (OptionsBuilder<RedisStorageOptions> builder) => builder.Configure<GatewayConfigStore>((options, config) =>
            {
                options.ConfigurationOptions = redis.Options;
                options.CreateMultiplexer = _ => redis.GetSharedAsync();
                options.DeleteStateOnClear = true;

                // Plain JSON without type names (renames of state classes keep stored sessions readable); keys expire
                // after the sessions they hold, so Redis never grows with abandoned sessions.
                options.GrainStorageSerializer = SessionStorage.Serializer;
                options.EntryExpiry = SessionStorage.EntryExpiryFor(config.Current.Session.Ttl, config.Current.Session.MaxLifetime);
            }));
            silo.AddRedisGrainStorage(StorageNames.RateLimits, options =>
            {
                options.ConfigurationOptions = redis.Options;
                options.CreateMultiplexer = _ => redis.GetSharedAsync();
                options.DeleteStateOnClear = true;
            });

            // Clustered silos use the strongly consistent directory (range locks handed over with membership views): a
            // grain whose silo leaves or whose directory partition moves is never activated a second time while the first
            // activation still runs or is still writing its state on deactivation. The default, eventually consistent
            // directory allowed exactly that in graceful-leave tests: two live copies of one bucket, each handing out
            // tokens. (An embedded silo is alone, so it keeps the default: with localhost clustering the new directory
            // logs a failed dashboard start-up message in Orleans 10.4.2.)
#pragma warning disable ORLEANSEXP003 // experimental in Orleans 10: the API, not the guarantee
            silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003

            // After a crash that directory holds the dead silo's grains (and a directory range it could not recover)
            // under a lease, 28 s with Orleans' default, in case the silo is not really dead: those buckets could not be
            // activated anywhere, so a third of the clients would get 503 (closed) or no limit (open) for half a minute.
            // A killed silo is dead, and a frozen one that wakes after being declared dead stops itself; what it could
            // still hand out meanwhile is the crash bound the lazy checkpoints already give, and a bucket that finds
            // another activation's checkpoint on save merges it. So no lease: the grains come back as soon as the death
            // is declared.
            silo.Configure<GrainDirectoryOptions>(options => options.RangeLeaseDuration = TimeSpan.Zero);
        }

        silo.Configure<ClusterMembershipOptions>(options =>
        {
            // A gateway cannot wait the defaults' tens of seconds for a dead silo: requests to its grains would hang.
            // A killed silo refuses connections and fails each probe at once (measured: dead in ~0.6 s); a frozen or
            // partitioned one times out: 2 missed probes of at most 1 s each, then the death vote.
            options.ProbeTimeout = TimeSpan.FromSeconds(1);
            options.MaxProbeTimeout = TimeSpan.FromSeconds(1);
            options.NumMissedProbesLimit = 2;
            options.NumVotesForDeathDeclaration = 2;
            options.IAmAliveTablePublishTimeout = settings.IAmAliveInterval;
            options.TableRefreshTimeout = TimeSpan.FromSeconds(10);
            options.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(30);
            options.LocalHealthDegradationMonitoringPeriod = TimeSpan.FromSeconds(5);
            options.DefunctSiloExpiration = TimeSpan.FromHours(1);
        });
        silo.Configure<SiloMessagingOptions>(options =>
        {
            options.ResponseTimeout = TimeSpan.FromSeconds(10);
            options.SystemResponseTimeout = TimeSpan.FromSeconds(10);
        });
        silo.Configure<GrainCollectionOptions>(options => options.CollectionQuantum = TimeSpan.FromSeconds(15));
        silo.AddActivityPropagation();
        silo.AddDashboard();
        silo.AddRateLimitShardWarmUp();

        // Orleans' meter is exported where a silo runs (a silo process, an embedded edge), with help text on every series.
        silo.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddOrleansMeter());
        return silo;
    }

    /// <summary>Configures an external client (an edge in clustered mode) of the silos registered in Redis.</summary>
    public static IClientBuilder ConfigureGatewayClient(this IClientBuilder client, HostSettings settings, RedisConnection redis)
    {
        client.Configure<ClusterOptions>(options =>
        {
            options.ClusterId = settings.ClusterId;
            options.ServiceId = settings.ServiceId;
        });
        client.UseRedisClustering(options =>
        {
            options.ConfigurationOptions = redis.Options;
            options.CreateMultiplexer = _ => redis.GetSharedAsync();
        });
        client.Configure<ClientMessagingOptions>(options => options.ResponseTimeout = GrainCallTimeout);
        client.Configure<GatewayOptions>(options => options.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));

        // Keep trying to reach a silo instead of failing start: the edge serves health and answers 503 meanwhile.
        client.UseConnectionRetryFilter(async (_, cancellationToken) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            return true;
        });
        client.AddActivityPropagation();
        return client;
    }

    /// <summary>
    /// Registers the one Redis multiplexer the process shares between membership, storage and its own calls, and the
    /// profiler that times every command it sends (<c>gateway_redis_operation_duration_seconds</c>).
    /// </summary>
    public static IServiceCollection AddGatewayRedis(this IServiceCollection services, RedisConnection redis)
    {
        services.AddSingleton(redis).AddSingleton<IConnectionMultiplexer>(_ => redis.Multiplexer);
        services.AddSingleton<RedisOperationMetrics>();
        services.AddHostedService(sp => sp.GetRequiredService<RedisOperationMetrics>());
        return services;
    }
}
