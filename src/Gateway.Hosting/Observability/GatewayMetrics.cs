using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gateway.Hosting.Observability;

/// <summary>
/// The gateway's own instruments, named exactly as the contract's metric table (the Prometheus exporter keeps
/// names that already end in <c>_total</c> or the unit suffix). Labels are bounded: route ids and upstream names, never raw paths.
/// </summary>
public sealed class GatewayMetrics : IDisposable
{
    public const string MeterName = "Gateway";

    private static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private static readonly double[] RedisBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestDuration;
    private readonly Counter<long> _authFailures;
    private readonly Counter<long> _rateLimitExceeded;
    private readonly Counter<long> _rateLimitBackendFailures;
    private readonly Counter<long> _upstreamErrors;
    private readonly UpDownCounter<long> _activeConnections;
    private readonly Histogram<double> _redisDuration;
    private readonly Histogram<double> _upstreamDuration;
    private readonly Counter<long> _configReloads;

    public GatewayMetrics(IMeterFactory meterFactory, LogLineBuffer? logLines = null)
    {
        _meter = meterFactory.Create(MeterName);
        _requests = _meter.CreateCounter<long>("gateway_requests_total", description: "Requests answered by the edge, by route, method and status.");
        _requestDuration = _meter.CreateHistogram("gateway_request_duration_seconds", unit: "s", description: "Time from the request's arrival to the end of its response.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _authFailures = _meter.CreateCounter<long>("gateway_auth_failures_total", description: "Requests refused or logins failed, by reason.");
        _rateLimitExceeded = _meter.CreateCounter<long>("gateway_ratelimit_exceeded_total", description: "Requests rejected with 429, by route and policy.");
        _rateLimitBackendFailures = _meter.CreateCounter<long>("gateway_ratelimit_backend_failures_total", description: "Rate-limit decisions the grains did not answer in time, by outcome (admitted, denied, local_admitted, local_denied).");
        _upstreamErrors = _meter.CreateCounter<long>("gateway_upstream_errors_total", description: "Failed forwards, by upstream and kind (unreachable, timeout, no_destination, ...).");
        _activeConnections = _meter.CreateUpDownCounter<long>("gateway_active_connections", description: "Open client connections to the edge.");
        _redisDuration = _meter.CreateHistogram("gateway_redis_operation_duration_seconds", unit: "s", description: "Duration of the gateway's Redis operations, by operation.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RedisBuckets });
        _upstreamDuration = _meter.CreateHistogram("gateway_upstream_duration_seconds", unit: "s", description: "Time to an upstream's response, by upstream.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _configReloads = _meter.CreateCounter<long>("gateway_config_reloads_total", description: "Reloads of gateway.yml, by result (success or failure).");

        _meter.CreateObservableCounter("gateway_log_lines_dropped_total", () => logLines?.Dropped ?? 0, description: "Log lines dropped because the log buffer was full (LOG_BUFFER_LINES).");

        // The runbook's process series, under the names Prometheus' own client libraries use. Read from the runtime, no
        // Process object per scrape. OpenTelemetry's process instrumentation names them process.memory.usage and
        // process.cpu.time (split by cpu.mode), which the exporter turns into other series.
        _meter.CreateObservableGauge("process_resident_memory_bytes", () => Environment.WorkingSet, description: "Resident memory size in bytes.");
        _meter.CreateObservableCounter("process_cpu_seconds_total", () => Environment.CpuUsage.TotalTime.TotalSeconds, description: "Total user and system CPU time spent in seconds.");
    }

    /// <summary>The <c>method</c> and <c>status</c> label of anything a client or an upstream can send that is not a standard value.</summary>
    public const string OtherLabel = "OTHER";

    private static readonly string[] StatusLabels = [.. Enumerable.Range(100, 500).Select(code => code.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    /// <param name="route">A route id or one of the edge's own endpoint names (bounded by the configuration).</param>
    /// <param name="method">The request's method as received: mapped by <see cref="MethodLabel"/>.</param>
    /// <param name="status">The response status: mapped by <see cref="StatusLabel"/>.</param>
    /// <param name="seconds">The request's duration.</param>
    public void RequestCompleted(string route, string method, int status, double seconds)
    {
        var methodLabel = MethodLabel(method);
        _requests.Add(1, new TagList { { "route", route }, { "method", methodLabel }, { "status", StatusLabel(status) } });
        _requestDuration.Record(seconds, new TagList { { "route", route }, { "method", methodLabel } });
    }

    /// <summary>
    /// One of the nine standard methods (matched exactly: methods are case-sensitive), else <see cref="OtherLabel"/>. Kestrel
    /// accepts any token as a method; a raw label would let every client create series. Returns literals: no allocation.
    /// </summary>
    public static string MethodLabel(string? method) => method switch
    {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        _ => OtherLabel,
    };

    /// <summary>The status code as text for 100-599 (cached strings), else <see cref="OtherLabel"/> (an upstream may answer up to 999).</summary>
    public static string StatusLabel(int status) => status is >= 100 and <= 599 ? StatusLabels[status - 100] : OtherLabel;

    public void AuthFailed(string reason) => _authFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void RateLimitExceeded(string route, string policy) =>
        _rateLimitExceeded.Add(1, new TagList { { "route", route }, { "policy", policy } });

    /// <summary>A decision the grains did not make: by <c>open</c>/<c>closed</c> (<paramref name="local"/> false) or by the edge's local bucket.</summary>
    public void RateLimitBackendFailed(bool admitted, bool local = false) =>
        _rateLimitBackendFailures.Add(1, new KeyValuePair<string, object?>("outcome", (admitted, local) switch
        {
            (true, false) => "admitted",
            (false, false) => "denied",
            (true, true) => "local_admitted",
            (false, true) => "local_denied",
        }));

    public void UpstreamError(string upstream, string kind) =>
        _upstreamErrors.Add(1, new TagList { { "upstream", upstream }, { "kind", kind } });

    public void UpstreamResponded(string upstream, double seconds) =>
        _upstreamDuration.Record(seconds, new KeyValuePair<string, object?>("upstream", upstream));

    public void ConnectionOpened() => _activeConnections.Add(1);

    public void ConnectionClosed() => _activeConnections.Add(-1);

    public void RedisOperation(string operation, double seconds) =>
        _redisDuration.Record(seconds, new KeyValuePair<string, object?>("operation", operation));

    public void ConfigReloaded(bool success) =>
        _configReloads.Add(1, new KeyValuePair<string, object?>("result", success ? "success" : "failure"));

    /// <summary>
    /// <c>gateway_ratelimit_edge_entries{kind}</c>: what the edge's limiter holds state for (buckets in the <c>deny</c>
    /// cache, exact-mode shard <c>lane</c>s with a call in flight, fast-mode <c>lease</c> slots), so that a flood of client keys shows.
    /// </summary>
    public void ObserveRateLimitEntries(Func<int> denials, Func<int> lanes, Func<int> leases) =>
        _meter.CreateObservableGauge(
            "gateway_ratelimit_edge_entries",
            () => new[]
            {
                new Measurement<long>(denials(), new KeyValuePair<string, object?>("kind", "deny")),
                new Measurement<long>(lanes(), new KeyValuePair<string, object?>("kind", "lane")),
                new Measurement<long>(leases(), new KeyValuePair<string, object?>("kind", "lease")),
            },
            description: "Entries the edge's rate limiter holds state for, by kind (deny: buckets denied until a time, lane: shards with a call in flight, lease: fast-mode buckets).");

    /// <summary><c>gateway_upstream_retries_total{upstream}</c>: one more try of a request on a route with <c>retries</c>.</summary>
    public void UpstreamRetried(string upstream) =>
        (_upstreamRetries ??= _meter.CreateCounter<long>("gateway_upstream_retries_total", description: "Requests tried again after a connect failure or a listed status, by upstream."))
            .Add(1, new KeyValuePair<string, object?>("upstream", upstream));

    private Counter<long>? _upstreamRetries;

    /// <summary>A session check answered from the edge's last good answer because the session grain did not answer.</summary>
    public void SessionStaleServed() =>
        (_sessionStaleServed ??= _meter.CreateCounter<long>("gateway_session_stale_served_total", description: "Session checks served from the edge's last good answer because the session grain did not answer (stale-if-error)."))
        .Add(1);

    private Counter<long>? _sessionStaleServed;

    /// <summary><c>gateway_upstream_destination_healthy{upstream,destination}</c>: 1 while a destination is in rotation, else 0.</summary>
    public void ObserveDestinationHealth(Func<IEnumerable<(string Upstream, string Destination, bool Healthy)>> read) =>
        _meter.CreateObservableGauge(
            "gateway_upstream_destination_healthy",
            () => read().Select(d => new Measurement<long>(d.Healthy ? 1 : 0, new KeyValuePair<string, object?>("upstream", d.Upstream), new KeyValuePair<string, object?>("destination", d.Destination))),
            description: "1 while an upstream's destination is healthy (in rotation), 0 while active or passive health checks keep it out.");

    public void Dispose() => _meter.Dispose();
}
