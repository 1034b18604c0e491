namespace Gateway.Testing;

/// <summary>A real <c>redis-server</c> on a free loopback port, without persistence, that tests can stop and start again.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private ChildProcess? _process;

    private RedisServer(int port) => Port = port;

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer(FreePort.Next());
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server again on the same port (empty: nothing is persisted).</summary>
    public async Task RestartAsync()
    {
        var binary = FindRedisServer();
        _process = ChildProcess.Start("redis", binary, ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"], new Dictionary<string, string>());
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.Output.Any(line => line.Contains("Ready to accept connections", StringComparison.Ordinal)))
            {
                return;
            }

            if (_process.HasExited)
            {
                break;
            }

            await Task.Delay(50);
        }

        throw new InvalidOperationException("redis-server did not start:\n" + _process.Tail());
    }

    /// <summary>Sends <paramref name="signal"/> to the running server (e.g. <see cref="ChildProcess.SigStop"/> to freeze it with its data).</summary>
    public void Signal(int signal) => _process?.Signal(signal);

    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private static string FindRedisServer()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Append("/usr/bin").Append("/usr/local/bin")
            .Select(dir => Path.Combine(dir, "redis-server"))
            .FirstOrDefault(File.Exists);
        return path ?? throw new InvalidOperationException("redis-server is not installed: the tests need Debian's redis-server package (.ci/run installs it).");
    }
}
