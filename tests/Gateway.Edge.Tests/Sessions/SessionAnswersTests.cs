using System.Collections.Immutable;
using System.Diagnostics.Metrics;
using Gateway.Edge.Sessions;
using Gateway.Grains.Contracts;
using Gateway.Hosting.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Edge.Tests.Sessions;

/// <summary>Stale-if-error: what the edge serves when a session grain does not answer.</summary>
public sealed class SessionAnswersTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-27T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly MetricCollector<long> _staleServed;
    private readonly SessionAnswers _answers;
    private readonly Queue<TaskCompletionSource<SessionLookup>> _replies = new();
    private int _calls;

    public SessionAnswersTests()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        _staleServed = new MetricCollector<long>(meters, GatewayMetrics.MeterName, "gateway_session_stale_served_total");
        _answers = new SessionAnswers(new SessionCache(_time), _time, new GatewayMetrics(meters), NullLogger<SessionAnswers>.Instance, Touch);
    }

    private long StaleServed => _staleServed.GetMeasurementSnapshot().Sum(m => m.Value);

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task AskAsync_GrainTimesOutWithinWindow_ServesLastActiveAnswer()
    {
        await AnswerAsync(Active());
        _time.Advance(TimeSpan.FromSeconds(20));

        var entry = await FailAsync(new TimeoutException());

        Assert.Equal(SessionStatus.Active, entry.Lookup.Status);
        Assert.Equal("alice", entry.Feature!.Identity.UserId);
        Assert.Equal(1, StaleServed);
        Assert.Equal(1, _answers.Failing);
    }

    [Fact]
    public async Task AskAsync_GrainTimesOutBeyondWindow_Throws()
    {
        await AnswerAsync(Active());
        _time.Advance(SessionAnswers.StaleWindow);

        await Assert.ThrowsAsync<TimeoutException>(() => FailAsync(new TimeoutException()));
        Assert.Equal(0, StaleServed);
        Assert.Equal(0, _answers.Failing);
    }

    [Fact]
    public async Task TryGet_FailingSessionPastWindow_MissesSoTheGrainIsAsked()
    {
        await AnswerAsync(Active());
        _time.Advance(TimeSpan.FromSeconds(1));
        await FailAsync(new SiloUnavailableException());
        _time.Advance(SessionAnswers.StaleWindow);

        Assert.False(_answers.TryGet("s1", out _));
    }

    [Fact]
    public async Task AskAsync_KnownExpiryPassed_ThrowsRatherThanServingStale()
    {
        await AnswerAsync(Active(expiresIn: TimeSpan.FromSeconds(5)));
        _time.Advance(TimeSpan.FromSeconds(6));

        await Assert.ThrowsAsync<TimeoutException>(() => FailAsync(new TimeoutException()));
    }

    [Theory]
    [InlineData(SessionStatus.Revoked)]
    [InlineData(SessionStatus.Expired)]
    public async Task AskAsync_LastAnswerRevokedOrExpired_NeverServedStale(SessionStatus status)
    {
        await AnswerAsync(Active());
        _time.Advance(TimeSpan.FromSeconds(1));
        await AnswerAsync(status == SessionStatus.Revoked ? SessionLookup.Revoked : SessionLookup.Expired);
        _time.Advance(TimeSpan.FromSeconds(1));

        await Assert.ThrowsAsync<TimeoutException>(() => FailAsync(new TimeoutException()));
        Assert.False(_answers.TryGet("s1", out _));
        Assert.Equal(0, StaleServed);
    }

    [Fact]
    public async Task TryGet_FailingSessionAnswersRevoked_RevocationWinsOverStale()
    {
        await AnswerAsync(Active());
        _time.Advance(TimeSpan.FromSeconds(1));
        await FailAsync(new TimeoutException());
        var refresh = Pending();

        Assert.True(_answers.TryGet("s1", out _));
        refresh.SetResult(SessionLookup.Revoked);
        await Eventually.UntilAsync(() => Task.FromResult(_answers.Failing == 0), TimeSpan.FromSeconds(5), "the refresh's answer is stored");
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.False(_answers.TryGet("s1", out _));
        await Assert.ThrowsAsync<TimeoutException>(() => FailAsync(new TimeoutException()));
    }

    [Fact]
    public async Task TryGet_ManyRequestsWhileFailing_ServedAtOnceWithOneRefreshInFlight()
    {
        await AnswerAsync(Active());
        _time.Advance(TimeSpan.FromSeconds(1));
        await FailAsync(new TimeoutException());
        var callsBefore = _calls;
        var refresh = Pending();

        for (var i = 0; i < 10; i++)
        {
            Assert.True(_answers.TryGet("s1", out var entry));
            Assert.Equal(SessionStatus.Active, entry.Lookup.Status);
        }

        Assert.Equal(callsBefore + 1, _calls);
        Assert.Equal(11, StaleServed);

        // The refresh fails too: the next request starts the next one.
        refresh.SetException(new TimeoutException());
        var next = Pending();
        await Eventually.UntilAsync(
            () => Task.FromResult(_answers.TryGet("s1", out _) && _calls == callsBefore + 2),
            TimeSpan.FromSeconds(5),
            "a second refresh starts once the first has failed");

        // It answers: the episode ends, the answer is fresh again and no more stale serves are counted.
        next.SetResult(Active());
        await Eventually.UntilAsync(() => Task.FromResult(_answers.Failing == 0), TimeSpan.FromSeconds(5), "the refresh's answer ends the failure");
        var served = StaleServed;
        Assert.True(_answers.TryGet("s1", out _));
        Assert.Equal(served, StaleServed);
    }

    [Fact]
    public async Task TryGet_NotFailing_StaleEntryIsNotServed()
    {
        await AnswerAsync(Active());
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.False(_answers.TryGet("s1", out _));
        Assert.Equal(0, StaleServed);
    }

    private static SessionLookup Active(TimeSpan? expiresIn = null) => SessionLookup.Active(new SessionSnapshot(
        new SessionIdentity("alice", "free", ImmutableArray<string>.Empty),
        DateTimeOffset.Parse("2026-11-27T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture) + (expiresIn ?? TimeSpan.FromHours(1))));

    private Task<SessionLookup> Touch(string sessionId)
    {
        Assert.Equal("s1", sessionId);
        _calls++;
        return _replies.Count > 0 ? _replies.Dequeue().Task : throw new InvalidOperationException("No reply was queued for this grain call.");
    }

    private TaskCompletionSource<SessionLookup> Pending()
    {
        var reply = new TaskCompletionSource<SessionLookup>(TaskCreationOptions.RunContinuationsAsynchronously);
        _replies.Enqueue(reply);
        return reply;
    }

    private async Task AnswerAsync(SessionLookup lookup)
    {
        Pending().SetResult(lookup);
        await _answers.AskAsync("s1");
    }

    private async Task<SessionCache.Entry> FailAsync(Exception failure)
    {
        Pending().SetException(failure);
        return await _answers.AskAsync("s1");
    }
}
