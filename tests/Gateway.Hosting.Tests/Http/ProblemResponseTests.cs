using System.Text.Json;
using Gateway.Hosting.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Hosting.Tests.Http;

public sealed class ProblemResponseTests
{
    [Fact]
    public async Task WriteAsync_GatewayError_WritesProblemJsonWithCorrelationId()
    {
        var context = NewContext("/api/orders");
        CorrelationId.Set(context, "order-7");

        await ProblemResponse.WriteAsync(context, StatusCodes.Status502BadGateway, "Upstream 'orders' could not be reached.");

        var root = Body(context);
        Assert.Equal(502, context.Response.StatusCode);
        Assert.Equal("application/problem+json", context.Response.ContentType);
        Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
        Assert.Equal("about:blank", root.GetProperty("type").GetString());
        Assert.Equal(ProblemResponse.TitleFor(502), root.GetProperty("title").GetString());
        Assert.Equal(502, root.GetProperty("status").GetInt32());
        Assert.Equal("Upstream 'orders' could not be reached.", root.GetProperty("detail").GetString());
        Assert.Equal("/api/orders", root.GetProperty("instance").GetString());
        Assert.Equal("order-7", root.GetProperty("correlation_id").GetString());
        Assert.False(root.TryGetProperty("traceId", out _));
    }

    [Fact]
    public async Task WriteAsync_Extensions_AreTopLevelMembers()
    {
        var context = NewContext("/api/me");

        await ProblemResponse.WriteAsync(context, StatusCodes.Status401Unauthorized, "No session.", extensions: new Dictionary<string, object?> { ["reason"] = "missing" });

        var root = Body(context);
        Assert.Equal("missing", root.GetProperty("reason").GetString());
        Assert.Equal(context.TraceIdentifier, root.GetProperty("correlation_id").GetString());
    }

    [Fact]
    public async Task WriteAsync_AcceptWithoutJson_StillWritesProblemJson()
    {
        var context = NewContext("/nowhere");
        context.Request.Headers.Accept = "text/html";
        CorrelationId.Set(context, "html-client");

        await ProblemResponse.WriteAsync(context, StatusCodes.Status404NotFound);

        var root = Body(context);
        Assert.Equal("application/problem+json", context.Response.ContentType);
        Assert.Equal(404, root.GetProperty("status").GetInt32());
        Assert.Equal("html-client", root.GetProperty("correlation_id").GetString());
    }

    [Fact]
    public async Task WriteAsync_AfterRequestTimeout_StillWritesBody()
    {
        var context = NewContext("/api/slow");
        using var timedOut = new CancellationTokenSource();
        await timedOut.CancelAsync();
        context.Features.Set<IHttpRequestTimeoutFeature>(new TimedOutFeature(timedOut.Token));
        context.RequestAborted = timedOut.Token;

        await ProblemResponse.WriteAsync(context, StatusCodes.Status504GatewayTimeout, "Upstream 'slow' did not answer in time.");

        Assert.Equal(504, Body(context).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Result_Executed_WritesTheSameProblem()
    {
        var context = NewContext("/admin/clients/1.2.3.4");
        CorrelationId.Set(context, "admin-1");

        await ProblemResponse.Result(StatusCodes.Status503ServiceUnavailable, "The rate limiter is unavailable.").ExecuteAsync(context);

        var root = Body(context);
        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("application/problem+json", context.Response.ContentType);
        Assert.Equal(ProblemResponse.TitleFor(503), root.GetProperty("title").GetString());
        Assert.Equal("admin-1", root.GetProperty("correlation_id").GetString());
    }

    private static DefaultHttpContext NewContext(string path)
    {
        var services = new ServiceCollection().AddLogging().AddGatewayProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Path = path;
        context.Response.Body = new MemoryStream();
        return context;
    }

    private static JsonElement Body(HttpContext context)
    {
        context.Response.Body.Position = 0;
        using var document = JsonDocument.Parse(context.Response.Body);
        return document.RootElement.Clone();
    }

    private sealed class TimedOutFeature(CancellationToken token) : IHttpRequestTimeoutFeature
    {
        public CancellationToken RequestTimeoutToken => token;

        public void DisableTimeout()
        {
        }
    }
}
