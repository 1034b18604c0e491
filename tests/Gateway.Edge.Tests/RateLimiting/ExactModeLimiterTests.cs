using System.Collections.Concurrent;
using System.Reflection;
using Gateway.Edge.RateLimiting;
using Gateway.Grains.Contracts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Edge.Tests.RateLimiting;

/// <summary>The exact-mode limiter over scripted shard grains whose calls the test answers, on a fake clock.</summary>
public sealed class ExactModeLimiterTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromMilliseconds(50);
    private static readonly RateLimitRate Rate = new(5, TimeSpan.FromMinutes(1).Ticks, 5);

    private readonly FakeTimeProvider _time = new();
    private readonly ConcurrentQueue<ScriptedCall> _calls = new();
    private readonly ExactModeLimiter _limiter;

    public ExactModeLimiterTests() =>
        _limiter = new ExactModeLimiter(ScriptedGrains.Create(_calls), new EdgeClock(_time), new BackendFailures(NullLogger.Instance));

    [Fact]
    public async Task AcquireAsync_QueuedLongerThanTheBudgetBehindACallThatAnswers_IsDecidedByTheGrain()
    {
        var (first, second) = TwoBucketsOfOneShard();
        var alone = _limiter.AcquireAsync(first, Rate, Budget, CancellationToken.None);
        var queued = _limiter.AcquireAsync(second, Rate, Budget, CancellationToken.None);
        var firstCall = await CallAsync(1);

        _time.Advance(TimeSpan.FromMilliseconds(40));
        firstCall.Answer(new RateLimitGrant(1, 4, 0));
        var secondCall = await CallAsync(2);
        _time.Advance(TimeSpan.FromMilliseconds(40));
        secondCall.Answer(new RateLimitGrant(1, 4, 0));
        var decision = await queued;

        Assert.True((await alone).Allowed);
        Assert.Equal(second, secondCall.Bucket);
        Assert.False(decision.BackendUnavailable);
        Assert.True(decision.Allowed);
    }

    [Fact]
    public async Task AcquireAsync_QueuedBehindASilentGrain_FallsBackByTheWaitBound()
    {
        var (first, second) = TwoBucketsOfOneShard();
        var alone = _limiter.AcquireAsync(first, Rate, Budget, CancellationToken.None);
        var queued = _limiter.AcquireAsync(second, Rate, Budget, CancellationToken.None);
        await CallAsync(1);

        _time.Advance(Budget * ExactCallLimits.MaxWaitBudgets);

        Assert.True((await alone).BackendUnavailable);
        Assert.True((await queued).BackendUnavailable);
    }

    [Fact]
    public async Task AcquireAsync_BusyEdgeShardLeftTwoCallsUnanswered_FallsBackAfterOneBudgetUntilALateAnswerComes()
    {
        var limiter = BusyEdge();
        var unanswered = new List<ScriptedCall>();
        for (var i = 1; i <= ExactCallLimits.MissesBeforeSilent; i++)
        {
            var timingOut = limiter.AcquireAsync("cold|ip:0", Rate, Budget, CancellationToken.None);
            unanswered.Add(await CallAsync(i));
            _time.Advance(Budget * ExactCallLimits.AnsweringCallBudgets);
            Assert.True((await timingOut).BackendUnavailable);
        }

        var second = limiter.AcquireAsync("cold|ip:0", Rate, Budget, CancellationToken.None);
        await CallAsync(ExactCallLimits.MissesBeforeSilent + 1);
        _time.Advance(Budget);
        var afterOneBudget = await second;

        unanswered[0].Answer(new RateLimitGrant(1, 4, 0));
        var third = limiter.AcquireAsync("cold|ip:0", Rate, Budget, CancellationToken.None);
        var answering = await CallAsync(ExactCallLimits.MissesBeforeSilent + 2);
        _time.Advance(Budget * 2);
        var decidedPastOneBudget = third.IsCompleted;
        answering.Answer(new RateLimitGrant(1, 3, 0));
        var decided = await third;

        Assert.True(afterOneBudget.BackendUnavailable);
        Assert.False(decidedPastOneBudget);
        Assert.False(decided.BackendUnavailable);
        Assert.True(decided.Allowed);
    }

    [Fact]
    public async Task AcquireAsync_BusyEdgeRecentAnswersSlow_CallMayTakeFourTimesAsLongUpToTheCap()
    {
        var limiter = BusyEdge();
        for (var i = 1; i <= 30; i++)
        {
            var slow = limiter.AcquireAsync("cold|ip:0", Rate, Budget, CancellationToken.None);
            var call = await CallAsync(i);
            _time.Advance(TimeSpan.FromMilliseconds(900));
            call.Answer(new RateLimitGrant(1, 4, 0));
            Assert.False((await slow).BackendUnavailable);
        }

        var last = limiter.AcquireAsync("cold|ip:0", Rate, Budget, CancellationToken.None);
        await CallAsync(31);
        _time.Advance(TimeSpan.FromSeconds(2));
        var decidedAfterTwoSeconds = last.IsCompleted;
        _time.Advance(Budget * ExactCallLimits.MaxCallBudgets - TimeSpan.FromSeconds(2));

        Assert.False(decidedAfterTwoSeconds);
        Assert.True((await last).BackendUnavailable);
    }

    [Fact]
    public async Task AcquireAsync_QuietEdgeShardSilent_FallsBackAfterOneBudget()
    {
        var alone = _limiter.AcquireAsync("cold|ip:0", Rate, Budget, CancellationToken.None);
        await CallAsync(1);

        _time.Advance(Budget);

        Assert.True((await alone).BackendUnavailable);
    }

    [Fact]
    public async Task AcquireAsync_SentQuietThenEdgeBusy_CallGetsTheLongerLimit()
    {
        var shard = RateLimitKeys.Shard("cold|ip:0");
        var others = Enumerable.Range(1, 1000).Select(i => $"other|ip:{i}").Where(b => RateLimitKeys.Shard(b) != shard)
            .DistinctBy(RateLimitKeys.Shard).Take(ExactCallLimits.BusyLanes - 1).ToList();
        var first = _limiter.AcquireAsync("cold|ip:0", Rate, Budget, CancellationToken.None);
        var call = await CallAsync(1);
        _time.Advance(Budget - TimeSpan.FromMilliseconds(10));
        var burst = others.Select(bucket => _limiter.AcquireAsync(bucket, Rate, Budget, CancellationToken.None).AsTask()).ToList();
        await CallAsync(1 + others.Count);

        _time.Advance(TimeSpan.FromMilliseconds(20));
        var decidedPastItsBudget = first.IsCompleted;
        call.Answer(new RateLimitGrant(1, 4, 0));
        var decision = await first;

        Assert.False(decidedPastItsBudget);
        Assert.False(decision.BackendUnavailable);
        Assert.True(decision.Allowed);
    }

    [Fact]
    public async Task Complete_TokenOfARequestThatStoppedWaiting_IsNotPassedOn()
    {
        var gaveUp = new ExactWaiter("p|a", Rate, Budget);
        var next = new ExactWaiter("p|a", Rate, Budget);
        gaveUp.TrySetCanceled();

        ExactBatch.Complete(new BucketAsk("p|a", Rate, [gaveUp, next]), new DenyCache(new EdgeClock(_time)), 0, new RateLimitGrant(1, 0, TimeSpan.TicksPerMinute));

        Assert.False((await next.Task).Allowed);
    }

    [Fact]
    public async Task AcquireAsync_EverySlotTaken_OtherShardWaitsForTheSlotThenAsks()
    {
        var limiter = new ExactModeLimiter(ScriptedGrains.Create(_calls), new EdgeClock(_time), new BackendFailures(NullLogger.Instance), maxCalls: 1);
        var (first, other) = TwoBucketsOfTwoShards();
        var alone = limiter.AcquireAsync(first, Rate, Budget, CancellationToken.None);
        var firstCall = await CallAsync(1);
        var waiting = limiter.AcquireAsync(other, Rate, Budget, CancellationToken.None);
        var callsWhileSlotTaken = _calls.Count;

        firstCall.Answer(new RateLimitGrant(1, 4, 0));
        var secondCall = await CallAsync(2);
        secondCall.Answer(new RateLimitGrant(1, 4, 0));

        Assert.Equal(1, callsWhileSlotTaken);
        Assert.Equal(other, secondCall.Bucket);
        Assert.True((await alone).Allowed);
        Assert.True((await waiting).Allowed);
    }

    [Fact]
    public async Task AcquireAsync_SlotHolderSlowerThanOneBudget_FreesTheSlotAndKeepsWaitingForItsAnswer()
    {
        var limiter = new ExactModeLimiter(ScriptedGrains.Create(_calls), new EdgeClock(_time), new BackendFailures(NullLogger.Instance), busyLanes: 1, maxCalls: 1);
        var (first, other) = TwoBucketsOfTwoShards();
        var slow = limiter.AcquireAsync(first, Rate, Budget, CancellationToken.None);
        var slowCall = await CallAsync(1);
        var waiting = limiter.AcquireAsync(other, Rate, Budget, CancellationToken.None);

        _time.Advance(Budget);
        var secondCall = await CallAsync(2);
        secondCall.Answer(new RateLimitGrant(1, 4, 0));
        var slowStillWaiting = !slow.IsCompleted;
        slowCall.Answer(new RateLimitGrant(1, 4, 0));

        Assert.True(slowStillWaiting);
        Assert.True((await waiting).Allowed);
        Assert.False((await slow).BackendUnavailable);
    }

    /// <summary>A limiter that counts the edge as busy whenever a call is in flight (as with many shards' calls in flight).</summary>
    private ExactModeLimiter BusyEdge() =>
        new(ScriptedGrains.Create(_calls), new EdgeClock(_time), new BackendFailures(NullLogger.Instance), busyLanes: 1);

    private static (string First, string Other) TwoBucketsOfTwoShards()
    {
        const string first = "cold|ip:0";
        var other = Enumerable.Range(1, 1000).Select(i => $"cold|ip:{i}").First(b => RateLimitKeys.Shard(b) != RateLimitKeys.Shard(first));
        return (first, other);
    }

    private static (string First, string Second) TwoBucketsOfOneShard()
    {
        const string first = "cold|ip:0";
        var second = Enumerable.Range(1, 1000).Select(i => $"cold|ip:{i}").First(b => RateLimitKeys.Shard(b) == RateLimitKeys.Shard(first));
        return (first, second);
    }

    private Task<ScriptedCall> CallAsync(int number) =>
        Eventually.UntilAsync(() => Task.FromResult(_calls.Skip(number - 1).FirstOrDefault()), call => call is not null, TimeSpan.FromSeconds(10), $"grain call {number}")!;
}

/// <summary>One call a scripted shard grain received, answered when the test says.</summary>
public sealed class ScriptedCall(string bucket)
{
    private readonly TaskCompletionSource<RateLimitGrant> _answer = new();

    public string Bucket { get; } = bucket;

    public Task<RateLimitGrant> Result => _answer.Task;

    public void Answer(RateLimitGrant grant) => _answer.TrySetResult(grant);
}

/// <summary>A grain factory whose rate-limit shard grains queue every single-bucket call for the test to answer.</summary>
public class ScriptedGrains : DispatchProxy
{
    private ConcurrentQueue<ScriptedCall> _calls = new();

    public static IGrainFactory Create(ConcurrentQueue<ScriptedCall> calls)
    {
        var factory = DispatchProxy.Create<IGrainFactory, ScriptedGrains>();
        ((ScriptedGrains)(object)factory)._calls = calls;
        return factory;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod is not { Name: nameof(IGrainFactory.GetGrain) } || targetMethod.ReturnType != typeof(IRateLimitShardGrain))
        {
            throw new NotSupportedException(targetMethod?.Name);
        }

        var grain = DispatchProxy.Create<IRateLimitShardGrain, ScriptedShard>();
        ((ScriptedShard)(object)grain).Calls = _calls;
        return grain;
    }
}

/// <summary>A shard grain that records each <c>AcquireAsync</c> and answers it when the test does.</summary>
public class ScriptedShard : DispatchProxy
{
    internal ConcurrentQueue<ScriptedCall> Calls { get; set; } = new();

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod is not { Name: nameof(IRateLimitShardGrain.AcquireAsync) } || args?[0] is not string bucket)
        {
            throw new NotSupportedException(targetMethod?.Name);
        }

        var call = new ScriptedCall(bucket);
        Calls.Enqueue(call);
        return new ValueTask<RateLimitGrant>(call.Result);
    }
}
