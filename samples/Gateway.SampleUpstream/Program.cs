// A stand-in for the services behind the gateway: it echoes what it received, answers the login check
// at POST /auth/verify, and listens on every port it is given (--urls), naming itself by port.
using System.Text.Json.Nodes;
using Gateway.SampleUpstream;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();

string ServiceName(HttpContext context) => context.Connection.LocalPort switch
{
    5001 => "user-service",
    5002 or 5003 => "post-service",
    var port => $"sample-{port}",
};

app.MapGet("/health", () => Results.Ok(new { status = "ok" }));

// Demo identities: alice/alice (tier pro, role admin) and bob/bob (tier free).
app.MapPost("/auth/verify", async (HttpContext context) =>
{
    var body = await JsonNode.ParseAsync(context.Request.Body) as JsonObject;
    return DemoIdentities.Verify((string?)body?["username"], (string?)body?["password"]) is { } identity
        ? Results.Ok(identity)
        : Results.Json(new { error = "invalid credentials" }, statusCode: 401);
});

app.Map("/{**path}", async (HttpContext context) =>
{
    if (context.Request.Query.TryGetValue("delay_ms", out var delay) && int.TryParse(delay, out var ms))
    {
        await Task.Delay(Math.Clamp(ms, 0, 120_000), context.RequestAborted);
    }

    if (context.Request.Query.TryGetValue("status", out var status) && int.TryParse(status, out var code))
    {
        context.Response.StatusCode = code;
    }

    return Results.Json(new
    {
        service = ServiceName(context),
        port = context.Connection.LocalPort,
        method = context.Request.Method,
        path = context.Request.Path.Value,
        query = context.Request.QueryString.Value,
        headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString()),
    }, statusCode: context.Response.StatusCode);
});

app.Run();
