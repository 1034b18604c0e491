using System.Buffers;
using System.Globalization;
using System.Threading.Channels;
using Gateway.Hosting.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Hosting.Observability;

/// <summary>
/// The log's way to stdout, off the request path: formatted lines wait in a bounded in-memory buffer that one background
/// writer drains to the output stream, in the order they were added. Adding never blocks: a line that does not fit is
/// dropped and counted (<c>gateway_log_lines_dropped_total</c>). Disposing writes every line still waiting, then writes
/// any later line directly, so that nothing logged during shutdown is lost.
/// </summary>
public sealed class LogLineBuffer : IDisposable
{
    /// <summary>The environment variable that sets <see cref="Capacity"/>.</summary>
    public const string CapacityVariable = EnvironmentVariables.LogBufferLines;

    public const int DefaultCapacity = 10_000;

    public const int MaxCapacity = 1_000_000;

    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Line buffers go back from the writer, not from the thread that took them, which defeats the shared pool's
    /// per-thread caches: a pool of its own, shared by every thread.
    /// </summary>
    private readonly ArrayPool<byte> _pool = ArrayPool<byte>.Create(maxArrayLength: 1024 * 1024, maxArraysPerBucket: 256);

    private readonly Channel<Line> _lines;
    private readonly Stream _output;
    private readonly Task _writer;
    private readonly Lock _directWrite = new(); // the output is written by one thread at a time
    private long _dropped;
    private volatile bool _completed;

    /// <param name="output">Where lines go (stdout in production); written by one thread only.</param>
    /// <param name="capacity">How many lines may wait.</param>
    public LogLineBuffer(Stream output, int capacity = DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _output = output;
        _lines = Channel.CreateBounded<Line>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // with TryWrite: false when full, never a wait
            SingleReader = true,
            SingleWriter = false,
        });
        _writer = Task.Run(DrainAsync);
    }

    public int Capacity { get; }

    /// <summary>Lines dropped because the buffer was full, since start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The capacity <see cref="CapacityVariable"/> asks for, else <see cref="DefaultCapacity"/>.</summary>
    public static int ReadCapacity(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var text = configuration[CapacityVariable];
        if (string.IsNullOrEmpty(text))
        {
            return DefaultCapacity;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var capacity) || capacity is < 1 or > MaxCapacity)
        {
            throw new GatewayConfigurationException("environment", [new ConfigError(CapacityVariable, $"'{text}' is not a whole number of lines from 1 to {MaxCapacity}")]);
        }

        return capacity;
    }

    /// <summary>Adds one line (its bytes, the newline included); never waits. False when it was dropped.</summary>
    public bool TryAdd(ReadOnlySpan<byte> line)
    {
        var buffer = _pool.Rent(line.Length);
        line.CopyTo(buffer);
        if (_lines.Writer.TryWrite(new Line(buffer, line.Length)))
        {
            return true;
        }

        _pool.Return(buffer);
        if (_completed)
        {
            // After shutdown began: straight to the output, as the console logger does, once the waiting lines are out.
            _writer.Wait(DisposeTimeout);
            lock (_directWrite)
            {
                _output.Write(line);
                _output.Flush();
            }

            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    /// <summary>Writes every waiting line, then stops the writer (waiting at most 5 seconds for a stuck output).</summary>
    public void Dispose()
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        _lines.Writer.TryComplete();
        _writer.Wait(DisposeTimeout);
    }

    /// <summary>
    /// The writer: one loop on the thread pool that waits asynchronously when the buffer is empty (a blocked thread would
    /// spin before it sleeps, which a proxy pinned to one core pays for).
    /// </summary>
    private async Task DrainAsync()
    {
        var reader = _lines.Reader;
        while (true)
        {
            if (reader.TryRead(out var line))
            {
                try
                {
                    lock (_directWrite)
                    {
                        _output.Write(line.Buffer, 0, line.Length);
                    }
                }
                catch (IOException)
                {
                    // stdout closed (the reader went away): nothing can be written; keep draining so no one waits.
                }
                finally
                {
                    _pool.Return(line.Buffer);
                }

                continue;
            }

            // Nothing waiting: flush what was written, then sleep until a line comes or the buffer is completed.
            Flush();
            if (!await reader.WaitToReadAsync())
            {
                Flush();
                return;
            }
        }
    }

    private void Flush()
    {
        try
        {
            lock (_directWrite)
            {
                _output.Flush();
            }
        }
        catch (IOException)
        {
            // as above
        }
    }

    private readonly record struct Line(byte[] Buffer, int Length);
}
