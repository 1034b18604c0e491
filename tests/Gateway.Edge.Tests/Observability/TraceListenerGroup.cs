namespace Gateway.Edge.Tests.Observability;

/// <summary>
/// Test classes that must not run beside each other because of tracing: an edge with an exporter registers a
/// process-wide activity listener, and while it lives every other in-process edge starts activities too, so a test of
/// the no-exporter path would see the listener's trace context instead of its own.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TraceListenerGroup
{
    public const string Name = "Tracing";
}
