using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Gateway.Edge.Tests.Infrastructure;
using Gateway.Hosting.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Edge.Tests.Observability;

/// <summary>
/// The edge's log lines as the JSON formatter writes them, each tagged with whether it was written inside a request
/// (an <see cref="HttpContext"/> was current): every such line carries the request's <c>correlation_id</c>, the
/// access line has the contract's fields, and 5xx answers and failures are logged at ERROR.
/// </summary>
/// <remarks>
/// One edge for the class: each test finds its lines by its own correlation id, and what must hold for every line (a
/// correlation id inside requests, no token) is checked over the lines of every test so far.
/// </remarks>
public sealed class RequestLogTests(RequestLogTests.Fixture fixture) : IClassFixture<RequestLogTests.Fixture>
{
    private const string FailingGrainPath = "/observability-test/failing-grain";
    private const string AdminToken = "log-test-admin-token-7f3a9c-0123456789abcdef";
    private readonly CapturingLoggerProvider _logs = fixture.Logs;
    private readonly TestEdge _edge = fixture.Edge;

    [Theory]
    [InlineData("/api/ok", HttpStatusCode.OK)]
    [InlineData("/nowhere", HttpStatusCode.NotFound)]
    [InlineData("/down/x", HttpStatusCode.BadGateway)]
    [InlineData("/slow/x?delay_ms=2000", HttpStatusCode.GatewayTimeout)]
    [InlineData(FailingGrainPath, HttpStatusCode.InternalServerError)]
    public async Task Request_AnyOutcome_EveryLineInsideTheRequestCarriesItsCorrelationId(string path, HttpStatusCode expected)
    {
        var correlationId = "log-" + Guid.NewGuid().ToString("N")[..12];

        var status = await SendAsync(path, correlationId);
        var lines = await _logs.WaitForAsync(lines => lines.Any(l => IsAccessLine(l, correlationId)));

        Assert.Equal(expected, status);
        var inside = lines.Where(l => l.InsideRequest && (!l.Json.RootElement.TryGetProperty("correlation_id", out var id) || id.GetString() == correlationId)).ToList();
        Assert.NotEmpty(inside);
        Assert.All(inside, line => Assert.Equal(correlationId, line.Json.RootElement.GetProperty("correlation_id").GetString()));
        Assert.DoesNotContain(lines, l => l.InsideRequest && !l.Json.RootElement.TryGetProperty("correlation_id", out _));
    }

    [Fact]
    public async Task AccessLine_ProxiedRequest_HasContractFieldsAtInfo()
    {
        var correlationId = "access-" + Guid.NewGuid().ToString("N")[..12];

        Assert.Equal(HttpStatusCode.OK, await SendAsync("/api/users/42?q=1", correlationId));
        var access = (await _logs.WaitForAsync(lines => lines.Any(l => IsAccessLine(l, correlationId)))).Single(l => IsAccessLine(l, correlationId)).Json.RootElement;

        Assert.Equal("INFO", access.GetProperty("level").GetString());
        Assert.Equal("GET", access.GetProperty("method").GetString());
        Assert.Equal("/api/users/42", access.GetProperty("path").GetString());
        Assert.Equal("echo", access.GetProperty("route").GetString());
        Assert.Equal(200, access.GetProperty("status").GetInt32());
        Assert.True(access.GetProperty("duration_ms").GetDouble() > 0);
        Assert.Equal("127.0.0.1", access.GetProperty("client").GetString());
        Assert.Equal(JsonValueKind.Null, access.GetProperty("user_id").ValueKind);
        Assert.False(string.IsNullOrEmpty(access.GetProperty("timestamp").GetString()));
        Assert.False(string.IsNullOrEmpty(access.GetProperty("message").GetString()));
    }

    [Theory]
    [InlineData("/down/x", 502)]
    [InlineData("/slow/x?delay_ms=2000", 504)]
    [InlineData(FailingGrainPath, 500)]
    public async Task AccessLine_ServerError_LoggedAtError(string path, int status)
    {
        var correlationId = "err-" + Guid.NewGuid().ToString("N")[..12];

        await SendAsync(path, correlationId);
        var access = (await _logs.WaitForAsync(lines => lines.Any(l => IsAccessLine(l, correlationId)))).Single(l => IsAccessLine(l, correlationId)).Json.RootElement;

        Assert.Equal(status, access.GetProperty("status").GetInt32());
        Assert.Equal("ERROR", access.GetProperty("level").GetString());
    }

    [Fact]
    public async Task FailingGrainCall_InsideARequest_ErrorWithExceptionCarriesCorrelationId()
    {
        var correlationId = "grain-" + Guid.NewGuid().ToString("N")[..12];

        await SendAsync(FailingGrainPath, correlationId);
        var lines = await _logs.WaitForAsync(lines => lines.Any(l => IsAccessLine(l, correlationId)));

        var failure = Assert.Single(lines, l => l.Json.RootElement.TryGetProperty("exception", out _) && l.Json.RootElement.TryGetProperty("correlation_id", out var id) && id.GetString() == correlationId);
        Assert.Equal("ERROR", failure.Json.RootElement.GetProperty("level").GetString());
        Assert.Contains(nameof(IUnimplementedGrain), failure.Json.RootElement.GetProperty("exception").GetString(), StringComparison.Ordinal);
        Assert.True(failure.InsideRequest);
    }

    [Fact]
    public async Task Logs_AdminRequestsWithToken_NeverContainTheToken()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/admin/clients/198.51.100.7", UriKind.Relative));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        using (await _edge.Client.SendAsync(request))
        {
        }

        Assert.Equal(HttpStatusCode.BadGateway, await SendAsync("/down/" + Uri.EscapeDataString("secret?"), "secret-scan"));
        var lines = await _logs.WaitForAsync(lines => lines.Any(l => IsAccessLine(l, "secret-scan")));

        Assert.DoesNotContain(lines, l => l.Text.Contains(AdminToken, StringComparison.Ordinal));
    }

    private async Task<HttpStatusCode> SendAsync(string path, string correlationId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Add("X-Correlation-ID", correlationId);
        using var response = await _edge.Client.SendAsync(request);
        return response.StatusCode;
    }

    private static bool IsAccessLine(CapturedLine line, string correlationId) =>
        line.Json.RootElement.GetProperty("category").GetString() == "Gateway.Edge.Observability.RequestTelemetryMiddleware"
        && line.Json.RootElement.TryGetProperty("correlation_id", out var id) && id.GetString() == correlationId;

    /// <summary>A grain interface that no silo implements: calling it fails like any broken grain call.</summary>
    public interface IUnimplementedGrain : IGrainWithIntegerKey
    {
        Task<string> AnswerAsync();
    }

    internal sealed record CapturedLine(string Text, JsonDocument Json, bool InsideRequest);

    /// <summary>Formats every entry with the production JSON formatter, noting whether an HttpContext was current.</summary>
    internal sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private readonly ConcurrentQueue<CapturedLine> _lines = new();
        private readonly HttpContextAccessor _http = new();
        private readonly JsonLineFormatter _formatter = new(TimeProvider.System);
        private IExternalScopeProvider? _scopes;

        public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
            foreach (var line in _lines)
            {
                line.Json.Dispose();
            }
        }

        public Task<IReadOnlyList<CapturedLine>> WaitForAsync(Func<IReadOnlyList<CapturedLine>, bool> condition) =>
            Eventually.UntilAsync(
                () => Task.FromResult<IReadOnlyList<CapturedLine>>([.. _lines]),
                condition,
                TimeSpan.FromSeconds(5),
                "the expected log lines",
                TimeSpan.FromMilliseconds(50));

        private void Write<TState>(string category, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            using var writer = new StringWriter();
            _formatter.Write(new Microsoft.Extensions.Logging.Abstractions.LogEntry<TState>(level, category, eventId, state, exception, formatter), _scopes, writer);
            var text = writer.ToString();
            if (text.Length > 0)
            {
                _lines.Enqueue(new CapturedLine(text, JsonDocument.Parse(text), _http.HttpContext is not null));
            }
        }

        private sealed class CapturingLogger(CapturingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => provider._scopes?.Push(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                provider.Write(category, logLevel, eventId, state, exception, formatter);
        }
    }

    /// <summary>The edge, with every log level on and its lines captured, that the tests of this class share.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        private TestUpstream _upstream = null!;

        internal CapturingLoggerProvider Logs { get; } = new();

        internal TestEdge Edge { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            _upstream = await TestUpstream.StartAsync();
            Edge = await TestEdge.StartAsync(
                $$"""
                upstreams:
                  echo: { destinations: ["{{_upstream.Address}}"] }
                  slow: { destinations: ["{{_upstream.Address}}"], timeout: 200ms }
                  down: { destinations: ["http://127.0.0.1:{{FreePort.Next()}}"] }
                routes:
                  - { id: echo, path: "/api/{**rest}", upstream: echo }
                  - { id: slow, path: "/slow/{**rest}", upstream: slow }
                  - { id: down, path: "/down/{**rest}", upstream: down }
                """,
                configure: builder =>
                {
                    builder.Services.AddHttpContextAccessor();
                    builder.Logging.AddProvider(Logs);
                },
                map: app => app.MapGet(FailingGrainPath, async (IGrainFactory grains) => await grains.GetGrain<IUnimplementedGrain>(0).AnswerAsync()),
                quiet: false,
                $"--ADMIN_TOKEN={AdminToken}");
        }

        public async Task DisposeAsync()
        {
            await Edge.DisposeAsync();
            await _upstream.DisposeAsync();
            Logs.Dispose();
        }
    }
}
