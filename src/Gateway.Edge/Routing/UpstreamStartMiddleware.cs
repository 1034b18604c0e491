using Gateway.Edge.Pipeline;

namespace Gateway.Edge.Routing;

/// <summary>
/// Runs inside YARP's proxy pipeline around the forwarder: notes when the upstream call starts. What follows the call
/// (<see cref="UpstreamOutcomes"/>) runs in the telemetry step's async step, so this step adds none of its own.
/// </summary>
internal sealed class UpstreamStartMiddleware(RequestDelegate next, TimeProvider time)
{
    public Task InvokeAsync(HttpContext context)
    {
        context.GatewayRequest().UpstreamStarted = time.GetTimestamp();
        return next(context);
    }
}
