using System.Diagnostics;

namespace Gateway.Benchmarks;

/// <summary>
/// A child process of this benchmark program (<c>Gateway.Benchmarks &lt;mode&gt; …</c>) that answers commands sent on its
/// stdin with lines starting with <c>@</c> on its stdout (other output is skipped).
/// </summary>
internal sealed class BenchChild : IDisposable
{
    private readonly Process _process;

    private BenchChild(Process process)
    {
        _process = process;
    }

    public static BenchChild Start(params string[] arguments)
    {
        var path = Environment.ProcessPath!;
        var start = new ProcessStartInfo(path) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(path) == "dotnet")
        {
            start.ArgumentList.Add(typeof(BenchChild).Assembly.Location);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return new BenchChild(Process.Start(start)!);
    }

    /// <summary>Sends <paramref name="command"/> and returns the first answer line (without its <c>@</c>).</summary>
    public async Task<string> AskAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        return await ReadAnswerAsync();
    }

    public async Task<string> ReadAnswerAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.StartsWith('@'))
            {
                return line[1..];
            }
        }

        throw new InvalidOperationException("The benchmark's child process ended before it answered.");
    }

    public void Dispose()
    {
        _process.StandardInput.WriteLine("quit");
        _process.StandardInput.Close();
        if (!_process.WaitForExit(30_000))
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}
