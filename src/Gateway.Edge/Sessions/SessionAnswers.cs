using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Gateway.Grains.Contracts;
using Gateway.Grains.Sessions;
using Gateway.Hosting.Observability;
using Orleans.Runtime.Messaging;

namespace Gateway.Edge.Sessions;

/// <summary>
/// The session grains' answers for this edge: fresh ones from <see cref="SessionCache"/>, else a grain call, and
/// <em>stale-if-error</em> when the grain does not answer at all (timeout, silo unavailable, connection lost: a frozen or
/// killed silo until the cluster declares it dead and the grain is activated elsewhere). Then a session this edge saw
/// active less than <see cref="StaleWindow"/> ago, and whose known expiry has not passed, is served from that last
/// answer instead of a 503. From then on its requests do not wait for the grain: they are served at once while one
/// background call per session (never more in flight) asks again, and the first answer ends it. An answer always wins:
/// a revoked or expired answer is never replaced by a stale one. A revocation goes to the same grain, so while the grain
/// cannot answer there is no revocation to miss. Stale serves do not slide the idle TTL; the answering call does.
/// </summary>
internal sealed partial class SessionAnswers
{
    /// <summary>How long after its last active answer this edge may still serve a session whose grain does not answer.</summary>
    public static readonly TimeSpan StaleWindow = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, Failure> _failing = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Failure>.AlternateLookup<ReadOnlySpan<char>> _failingBySpan;
    private readonly SessionCache _cache;
    private readonly TimeProvider _time;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Func<string, Task<SessionLookup>> _touch;
    private int _episodeOpen;
    private long _episodeStarted;
    private long _episodeServed;

    /// <summary>Made with <paramref name="touch"/>, the call that asks a session grain (<see cref="ISessionGrain.TouchAsync"/>).</summary>
    public SessionAnswers(
        SessionCache cache,
        [FromKeyedServices(SessionClock.Key)] TimeProvider time,
        GatewayMetrics metrics,
        ILogger<SessionAnswers> logger,
        Func<string, Task<SessionLookup>> touch)
    {
        _cache = cache;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _touch = touch;
        _failingBySpan = _failing.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public SessionCache Cache => _cache;

    /// <summary>Sessions whose grain has not answered since a call to it failed.</summary>
    public int Failing => _failing.Count;

    /// <summary>
    /// A fresh answer, or the last good one while the session's grain is failing (then a background call asks again);
    /// false when the grain must be asked. Allocates nothing on the fresh path.
    /// </summary>
    public bool TryGet(ReadOnlySpan<char> sessionId, [NotNullWhen(true)] out SessionCache.Entry? entry)
    {
        if (!_cache.TryFind(sessionId, out entry))
        {
            return false;
        }

        if (_cache.IsFresh(entry))
        {
            return true;
        }

        if (!_failing.IsEmpty && _failingBySpan.TryGetValue(sessionId, out var failure) && CanServeStale(entry))
        {
            ServedStale();
            Refresh(entry.SessionId, failure);
            return true;
        }

        entry = null;
        return false;
    }

    /// <summary>Asks the grain; when it does not answer, serves the last good answer if there is one within the window.</summary>
    /// <exception cref="Exception">The grain's failure, when there is nothing to serve instead.</exception>
    public async ValueTask<SessionCache.Entry> AskAsync(string sessionId)
    {
        SessionLookup lookup;
        try
        {
            lookup = await _touch(sessionId);
        }
        catch (Exception ex) when (IsUnanswered(ex))
        {
            if (_cache.TryFind(sessionId, out var last))
            {
                if (_cache.IsFresh(last))
                {
                    // Another call answered meanwhile.
                    return last;
                }

                if (CanServeStale(last))
                {
                    StartFailing(sessionId, ex);
                    ServedStale();
                    return last;
                }
            }

            StopFailing(sessionId);
            throw;
        }

        return Answered(sessionId, lookup);
    }

    /// <summary>Not an answer from the grain: it timed out, its silo is unavailable (<see cref="SiloUnavailableException"/> is a rejection), or the connection failed.</summary>
    public static bool IsUnanswered(Exception exception) =>
        exception is TimeoutException or OrleansMessageRejectionException or ConnectionFailedException;

    private bool CanServeStale(SessionCache.Entry entry) =>
        entry.Lookup is { Status: SessionStatus.Active, Session: { } session }
        && _time.GetElapsedTime(entry.StoredAt) < StaleWindow
        && _time.GetUtcNow() < session.ExpiresAt;

    private SessionCache.Entry Answered(string sessionId, SessionLookup lookup)
    {
        var entry = _cache.Set(sessionId, lookup);
        StopFailing(sessionId);
        return entry;
    }

    private void Refresh(string sessionId, Failure failure)
    {
        if (Interlocked.CompareExchange(ref failure.Refreshing, 1, 0) == 0)
        {
            _ = RefreshAsync(sessionId, failure);
        }
    }

    private async Task RefreshAsync(string sessionId, Failure failure)
    {
        try
        {
            Answered(sessionId, await _touch(sessionId));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Still no answer (or no usable one): the next request for this session starts the next try.
        }
        finally
        {
            Volatile.Write(ref failure.Refreshing, 0);
        }
    }

    private void StartFailing(string sessionId, Exception exception)
    {
        _failing.TryAdd(sessionId, new Failure(_time.GetTimestamp()));
        if (Interlocked.CompareExchange(ref _episodeOpen, 1, 0) == 0)
        {
            Interlocked.Exchange(ref _episodeStarted, _time.GetTimestamp());
            Interlocked.Exchange(ref _episodeServed, 0);
            LogServingStale(_logger, StaleWindow.TotalSeconds, exception.GetType().Name, exception);
        }
    }

    /// <summary>Ends a session's failure; the episode ends with the last one (failures past the window are dropped).</summary>
    private void StopFailing(string sessionId)
    {
        if (_failing.IsEmpty)
        {
            return;
        }

        _failing.TryRemove(sessionId, out _);
        foreach (var (id, failure) in _failing)
        {
            // A session not asked for again within the window has nothing left to serve.
            if (_time.GetElapsedTime(failure.Since) >= StaleWindow)
            {
                _failing.TryRemove(new KeyValuePair<string, Failure>(id, failure));
            }
        }

        if (_failing.IsEmpty && Interlocked.CompareExchange(ref _episodeOpen, 0, 1) == 1)
        {
            var served = Interlocked.Read(ref _episodeServed);
            var seconds = _time.GetElapsedTime(Interlocked.Read(ref _episodeStarted)).TotalSeconds;
            LogAnsweringAgain(_logger, served, seconds);
        }
    }

    private void ServedStale()
    {
        Interlocked.Increment(ref _episodeServed);
        _metrics.SessionStaleServed();
    }

    [LoggerMessage(EventId = LogEvents.SessionServedStale, Level = LogLevel.Warning, Message = "Session grains did not answer ({Failure}): sessions this edge saw active within {WindowSeconds} s are served from their last answer until their grains answer again")]
    private static partial void LogServingStale(ILogger logger, double windowSeconds, string failure, Exception exception);

    [LoggerMessage(EventId = LogEvents.SessionGrainsAnswerAgain, Level = LogLevel.Information, Message = "Session grains answer again: {Served} requests were served from last answers over {Seconds:0.0} s")]
    private static partial void LogAnsweringAgain(ILogger logger, long served, double seconds);

    /// <summary>A session whose grain did not answer; at most one background call asks it again.</summary>
    private sealed class Failure(long since)
    {
        public int Refreshing;

        public long Since { get; } = since;
    }
}
