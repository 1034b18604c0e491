using Gateway.Edge.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Edge.Tests.Pipeline;

public sealed class RequestTimeoutsTests
{
    [Fact]
    public void Start_RouteTimeoutRunsOut_RequestAbortedCancelledAsTimeout()
    {
        var time = new FakeTimeProvider();
        var timeouts = new RequestTimeouts(time);
        using var client = new CancellationTokenSource();
        var context = Request(TimeSpan.FromSeconds(5), client.Token);

        timeouts.Start(context);
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(context.RequestAborted.IsCancellationRequested);
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(context.RequestAborted.IsCancellationRequested);
        Assert.True(context.Features.Get<IHttpRequestTimeoutFeature>()!.RequestTimeoutToken.IsCancellationRequested);
        Assert.True(RequestTimeouts.TimedOut(context));
        timeouts.End(context);
        Assert.Equal(client.Token, context.RequestAborted);
        Assert.Null(context.Features.Get<IHttpRequestTimeoutFeature>());
    }

    [Fact]
    public void Start_ClientGoesAway_RequestAbortedCancelledButNotATimeout()
    {
        var timeouts = new RequestTimeouts(new FakeTimeProvider());
        using var client = new CancellationTokenSource();
        var context = Request(TimeSpan.FromSeconds(5), client.Token);

        timeouts.Start(context);
        client.Cancel();

        Assert.True(context.RequestAborted.IsCancellationRequested);
        Assert.False(RequestTimeouts.TimedOut(context));
        timeouts.End(context);
    }

    [Fact]
    public void End_RequestAnsweredInTime_NextRequestGetsAFreshUncancelledTimeout()
    {
        var time = new FakeTimeProvider();
        var timeouts = new RequestTimeouts(time);
        var first = Request(TimeSpan.FromSeconds(5), CancellationToken.None);
        timeouts.Start(first);
        var firstToken = first.RequestAborted;
        timeouts.End(first);

        var second = Request(TimeSpan.FromSeconds(5), CancellationToken.None);
        timeouts.Start(second);
        time.Advance(TimeSpan.FromSeconds(6));

        Assert.True(second.RequestAborted.IsCancellationRequested);
        Assert.Equal(CancellationToken.None, first.RequestAborted);
        Assert.True(firstToken.CanBeCanceled);
        timeouts.End(second);
    }

    [Fact]
    public void Start_EndpointWithoutTimeout_LeavesTheRequestAlone()
    {
        var timeouts = new RequestTimeouts(new FakeTimeProvider());
        var context = new DefaultHttpContext();
        context.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(), "no timeout"));

        timeouts.Start(context);

        Assert.Null(context.Features.Get<IHttpRequestTimeoutFeature>());
        Assert.False(context.RequestAborted.CanBeCanceled);
    }

    private static DefaultHttpContext Request(TimeSpan timeout, CancellationToken aborted)
    {
        var context = new DefaultHttpContext { RequestAborted = aborted };
        context.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(new RequestTimeoutAttribute((int)timeout.TotalMilliseconds)), "route"));
        return context;
    }
}
