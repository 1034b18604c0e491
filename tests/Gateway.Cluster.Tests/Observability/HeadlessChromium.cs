using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Gateway.Cluster.Tests.Observability;

/// <summary>
/// Debian's <c>chromium</c>, headless, driven over the DevTools protocol on a loopback port: one page, extra request
/// headers (for Basic auth), navigation, script evaluation and screenshots. Started and ended by its own PID.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly ChildProcess _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonNode>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiver;
    private int _nextId;
    private string? _sessionId;

    private HeadlessChromium(ChildProcess process, string profile, ClientWebSocket socket)
    {
        _process = process;
        _profile = profile;
        _socket = socket;
        _receiver = Task.Run(ReceiveAsync);
    }

    /// <summary>The chromium binary on PATH; fails with the package to install when there is none.</summary>
    public static string Locate()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin")
            .SelectMany(dir => new[] { Path.Combine(dir, "chromium"), Path.Combine(dir, "chromium-browser") })
            .FirstOrDefault(File.Exists);
        return path ?? throw new InvalidOperationException(
            "chromium is not installed: the dashboard tests need Debian's `chromium` package (apt-get install -y chromium).");
    }

    /// <summary>Starts chromium with a fresh profile and attaches to a new blank page.</summary>
    public static async Task<HeadlessChromium> StartAsync()
    {
        var binary = Locate();
        var profile = Directory.CreateTempSubdirectory("gateway-chromium-").FullName;
        var process = ChildProcess.Start(
            "chromium",
            binary,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0", "--window-size=1400,1000", $"--user-data-dir={profile}", "about:blank",
            ],
            new Dictionary<string, string>());
        try
        {
            var endpoint = await ReadDevToolsEndpointAsync(process, profile);
            var socket = new ClientWebSocket();
            using (var connect = new CancellationTokenSource(CommandTimeout))
            {
                await socket.ConnectAsync(endpoint, connect.Token);
            }

            var browser = new HeadlessChromium(process, profile, socket);
            var target = await browser.SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" });
            var attached = await browser.SendAsync("Target.attachToTarget", new JsonObject { ["targetId"] = target["targetId"]!.GetValue<string>(), ["flatten"] = true });
            browser._sessionId = attached["sessionId"]!.GetValue<string>();
            await browser.SendAsync("Page.enable");
            await browser.SendAsync("Network.enable");
            await browser.SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject { ["width"] = 1400, ["height"] = 1000, ["deviceScaleFactor"] = 1, ["mobile"] = false });
            return browser;
        }
        catch
        {
            await process.DisposeAsync();
            Directory.Delete(profile, recursive: true);
            throw;
        }
    }

    /// <summary>Headers sent with every request of the page, scripts' fetches included.</summary>
    public Task SetExtraHeadersAsync(IReadOnlyDictionary<string, string> headers)
    {
        var map = new JsonObject();
        foreach (var (name, value) in headers)
        {
            map[name] = value;
        }

        return SendAsync("Network.setExtraHTTPHeaders", new JsonObject { ["headers"] = map });
    }

    public Task NavigateAsync(Uri url) => SendAsync("Page.navigate", new JsonObject { ["url"] = url.ToString() });

    /// <summary>Evaluates a script expression in the page and returns its value as a string.</summary>
    public async Task<string> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true });
        return result["result"]?["value"]?.ToString() ?? string.Empty;
    }

    /// <summary>Polls the page's visible text until it satisfies the condition; fails with the last text otherwise.</summary>
    public Task<string> WaitForTextAsync(Func<string, bool> condition, TimeSpan timeout) =>
        Eventually.UntilAsync(() => EvaluateAsync("document.body ? document.body.innerText : ''"), condition, timeout, "the page's text", TimeSpan.FromMilliseconds(250));

    public async Task<byte[]> ScreenshotAsync()
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        return Convert.FromBase64String(result["data"]!.GetValue<string>());
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _sessionId = null;
            if (_socket.State == WebSocketState.Open)
            {
                await SendAsync("Browser.close");
                await _process.WaitForExitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or TimeoutException or InvalidOperationException)
        {
            // Ended by PID below.
        }

        await _stop.CancelAsync();
        _socket.Dispose();
        await _process.DisposeAsync();
        try
        {
            await _receiver;
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The socket went away with the browser.
        }

        _stop.Dispose();
        Directory.Delete(_profile, recursive: true);
    }

    private async Task<JsonNode> SendAsync(string method, JsonObject? parameters = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        if (_sessionId is not null)
        {
            message["sessionId"] = _sessionId;
        }

        var completion = new TaskCompletionSource<JsonNode>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = completion;
        using var timeout = new CancellationTokenSource(CommandTimeout);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        return await completion.Task.WaitAsync(CommandTimeout);
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (!_stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
        {
            var received = await _socket.ReceiveAsync(buffer, _stop.Token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                break;
            }

            message.Write(buffer, 0, received.Count);
            if (!received.EndOfMessage)
            {
                continue;
            }

            var node = JsonNode.Parse(message.ToArray());
            message.SetLength(0);
            if (node?["id"] is { } idNode && _pending.TryRemove(idNode.GetValue<int>(), out var completion))
            {
                if (node["error"] is { } error)
                {
                    completion.TrySetException(new InvalidOperationException($"DevTools error: {error.ToJsonString()}"));
                }
                else
                {
                    completion.TrySetResult(node["result"] ?? new JsonObject());
                }
            }
        }

        foreach (var pending in _pending.Values)
        {
            pending.TrySetException(new WebSocketException("chromium closed the DevTools connection"));
        }
    }

    /// <summary>Chromium writes the port it chose, then the browser's DevTools path, to DevToolsActivePort in its profile.</summary>
    private static async Task<Uri> ReadDevToolsEndpointAsync(ChildProcess process, string profile)
    {
        var file = Path.Combine(profile, "DevToolsActivePort");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException("chromium exited at start:\n" + process.Tail());
            }

            if (File.Exists(file))
            {
                var lines = (await File.ReadAllTextAsync(file)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (lines.Length >= 2)
                {
                    return new Uri($"ws://127.0.0.1:{lines[0]}{lines[1]}");
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("chromium did not open its DevTools port within 30 s:\n" + process.Tail());
    }
}
