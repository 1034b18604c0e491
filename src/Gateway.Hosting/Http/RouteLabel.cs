using Microsoft.AspNetCore.Builder;

namespace Gateway.Hosting.Http;

/// <summary>Endpoint metadata naming the <c>route</c> label of the gateway's own endpoints in metrics and logs.</summary>
public sealed record RouteLabel(string Label);

public static class RouteLabelExtensions
{
    public static TBuilder WithRouteLabel<TBuilder>(this TBuilder builder, string label)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new RouteLabel(label));
}
