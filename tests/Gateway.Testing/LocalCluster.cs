namespace Gateway.Testing;

/// <summary>
/// Redis, N silos and M edges as real processes on loopback, sharing one gateway.yml. Everything started is ended by PID on dispose.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly string _directory;
    private readonly Dictionary<string, string> _extraEnvironment;
    public const string ServiceId = "api-gateway-tests";

    private LocalCluster(RedisServer redis, string directory, Dictionary<string, string> extraEnvironment)
    {
        Redis = redis;
        _directory = directory;
        _extraEnvironment = extraEnvironment;
    }

    public RedisServer Redis { get; }

    public string ClusterId { get; } = "test-" + Guid.NewGuid().ToString("N")[..8];

    public List<SiloNode> Silos { get; } = [];

    public List<EdgeNode> Edges { get; } = [];

    public string ConfigPath => Path.Combine(_directory, "gateway.yml");

    public static async Task<LocalCluster> StartAsync(string gatewayYml, int silos, int edges, IReadOnlyDictionary<string, string>? environment = null)
    {
        var redis = await RedisServer.StartAsync();
        var directory = Directory.CreateTempSubdirectory("gateway-cluster-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "gateway.yml"), gatewayYml);
        var cluster = new LocalCluster(redis, directory, new Dictionary<string, string>(environment ?? new Dictionary<string, string>()));
        try
        {
            // Every process at once: an edge starts while the silos do, retries its first connection every second and
            // is ready once it can call a grain, so nothing waits for one start to finish before the next begins.
            for (var i = 0; i < silos; i++)
            {
                cluster.AddSilo();
            }

            for (var i = 0; i < edges; i++)
            {
                cluster.AddEdge();
            }

            // The time the silos and then the edges had before, one after the other: a loaded machine starts all at once slowly.
            await Task.WhenAll(cluster.Silos.Concat<ClusterNode>(cluster.Edges).Select(node => node.WaitReadyAsync(TimeSpan.FromSeconds(120))));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public SiloNode AddSilo()
    {
        var http = FreePort.Next();
        var env = BaseEnvironment(http);

        // A silo runs with the GC settings it ships with (Server GC with DATAS, see Gateway.Silo.csproj), so that what the
        // tests and the fault suite measure of its memory is what a deployment gets; a test may still override them.
        if (!_extraEnvironment.ContainsKey("DOTNET_gcServer"))
        {
            env.Remove("DOTNET_gcServer");
        }

        env["ORLEANS_SILO_PORT"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["ORLEANS_GATEWAY_PORT"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["ORLEANS_ADVERTISED_IP"] = "127.0.0.1";
        var siloPort = int.Parse(env["ORLEANS_SILO_PORT"], System.Globalization.CultureInfo.InvariantCulture);
        var node = new SiloNode(ChildProcess.StartDotnet($"silo{Silos.Count}", "Gateway.Silo", env), http, siloPort);
        Silos.Add(node);
        return node;
    }

    /// <summary>Starts an edge; <paramref name="environment"/> overrides the cluster's variables for this edge only (e.g. rotated secrets).</summary>
    public EdgeNode AddEdge(IReadOnlyDictionary<string, string>? environment = null)
    {
        var http = FreePort.Next();
        var env = BaseEnvironment(http);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }

        var node = new EdgeNode(ChildProcess.StartDotnet($"edge{Edges.Count}", "Gateway.Edge", env), http);
        Edges.Add(node);
        return node;
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Edges.Concat<ClusterNode>(Silos).Select(node => node.DisposeAsync().AsTask()));
        await Redis.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private Dictionary<string, string> BaseEnvironment(int httpPort)
    {
        var env = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{httpPort}",
            ["REDIS_CONNECTION"] = Redis.ConnectionString,
            ["GATEWAY_CONFIG"] = ConfigPath,
            ["ORLEANS_CLUSTER_ID"] = ClusterId,
            ["ORLEANS_SERVICE_ID"] = ServiceId,
            ["SESSION_SECRET"] = "test-secret-0123456789abcdef0123456789abcdef",
            ["ADMIN_TOKEN"] = "test-admin-token-0123456789abcdefghij",
            ["SHUTDOWN_DRAIN_DELAY"] = "1s",
            ["DOTNET_gcServer"] = "0",
        };

        // What the test asks for wins over the defaults above.
        foreach (var (key, value) in _extraEnvironment)
        {
            env[key] = value;
        }

        return env;
    }
}

/// <summary>A silo or edge process with its HTTP port.</summary>
public abstract class ClusterNode(ChildProcess process, int httpPort) : IAsyncDisposable
{
    public ChildProcess Process { get; } = process;

    public HttpClient Client { get; } = new() { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(10) };

    public Task WaitReadyAsync(TimeSpan timeout) => Eventually.UntilReadyAsync(Process, Client, timeout);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Process.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class SiloNode(ChildProcess process, int httpPort, int siloPort) : ClusterNode(process, httpPort)
{
    /// <summary>The Orleans silo-to-silo port, which names the silo in the membership table.</summary>
    public int SiloPort { get; } = siloPort;
}

public sealed class EdgeNode(ChildProcess process, int httpPort) : ClusterNode(process, httpPort);
