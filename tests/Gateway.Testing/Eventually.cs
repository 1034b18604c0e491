using System.Net;

namespace Gateway.Testing;

/// <summary>
/// The one way tests (and the benchmark host) wait for something that happens asynchronously: poll until a condition
/// holds or a deadline passes, then fail with what was awaited and what was last seen. Never returns silently on timeout.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Polls <paramref name="observe"/> until <paramref name="satisfied"/> holds; returns that observation.</summary>
    /// <exception cref="TimeoutException">Not satisfied within <paramref name="timeout"/>; names <paramref name="description"/> and the last observation.</exception>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> observe, Func<T, bool> satisfied, TimeSpan timeout, string description, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(observe);
        ArgumentNullException.ThrowIfNull(satisfied);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var last = await observe();
            if (satisfied(last))
            {
                return last;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"{description}: not within {timeout.TotalSeconds:0.###} s; last observed: {Describe(last)}");
            }

            await Task.Delay(interval ?? DefaultInterval);
        }
    }

    /// <summary>Polls a condition that needs no observation to explain a failure.</summary>
    public static Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string description, TimeSpan? interval = null) =>
        UntilAsync(condition, ok => ok, timeout, description, interval);

    /// <summary>
    /// Polls <c>GET /health/ready</c> until it answers 200. Fails at once, with the process's last output, if the
    /// process exits; refused connections and timeouts count as "not ready yet".
    /// </summary>
    public static async Task UntilReadyAsync(ChildProcess process, HttpClient client, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(process);
        ArgumentNullException.ThrowIfNull(client);
        try
        {
            await UntilAsync(
                async () =>
                {
                    if (process.HasExited)
                    {
                        throw new InvalidOperationException($"{process.Name} exited:\n{process.Tail()}");
                    }

                    try
                    {
                        using var response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
                        return response.StatusCode.ToString();
                    }
                    catch (HttpRequestException ex)
                    {
                        return ex.Message;
                    }
                    catch (TaskCanceledException)
                    {
                        return "no answer within the client's timeout";
                    }
                },
                status => status == nameof(HttpStatusCode.OK),
                timeout,
                $"{process.Name} /health/ready answering 200",
                TimeSpan.FromMilliseconds(200));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\n{process.Tail()}", ex);
        }
    }

    private static string Describe<T>(T value) => value switch
    {
        null => "null",
        string text when text.Length > 2000 => text[..2000] + "…",
        _ => value.ToString() ?? string.Empty,
    };
}
