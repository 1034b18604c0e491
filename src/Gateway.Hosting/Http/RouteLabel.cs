using Microsoft.AspNetCore.Builder;

namespace Gateway.Hosting.Http;

/// <summary>Endpoint metadata naming the <c>route</c> label of the gateway's own endpoints in metrics and logs.</summary>
/// <param name="Label">The <c>route</c> label.</param>
/// <param name="Counted">False for probes and scrapes (<c>/health/*</c>, <c>/metrics</c>): they are neither counted nor access-logged.</param>
public sealed record RouteLabel(string Label, bool Counted = true);

public static class RouteLabelExtensions
{
    public static TBuilder WithRouteLabel<TBuilder>(this TBuilder builder, string label, bool counted = true)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new RouteLabel(label, counted));
}
