namespace Gateway.Edge.Tests.Infrastructure;

/// <summary>
/// A test upstream and an in-process edge (with its embedded silo) in front of it, started once for every test of a
/// class (<c>IClassFixture</c>). For classes whose tests do not change the edge's configuration or share a client key
/// whose counts they assert; each test tells its requests apart by its own path or correlation id.
/// </summary>
public abstract class EdgeFixture : IAsyncLifetime
{
    public TestUpstream Upstream { get; private set; } = null!;

    internal TestEdge Edge { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await TestUpstream.StartAsync();
        Edge = await TestEdge.StartAsync(Config(Upstream));
        await WarmUpAsync(Edge);
    }

    public async Task DisposeAsync()
    {
        if (Edge is not null)
        {
            await Edge.DisposeAsync();
        }

        await Upstream.DisposeAsync();
    }

    /// <summary>The edge's gateway.yml, routing to <paramref name="upstream"/>.</summary>
    protected abstract string Config(TestUpstream upstream);

    /// <summary>Runs once the edge is up, before the first test: e.g. a first proxied call, which pays for connection and JIT.</summary>
    private protected virtual Task WarmUpAsync(TestEdge edge) => Task.CompletedTask;
}
