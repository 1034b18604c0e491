using System.Diagnostics;

namespace Gateway.Deployment.Tests.Infrastructure;

/// <summary>The outcome of one run of a command-line tool.</summary>
public sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError)
{
    public string Describe(string command) =>
        $"`{command}` exited with {ExitCode}.{Environment.NewLine}stdout:{Environment.NewLine}{StandardOutput}{Environment.NewLine}stderr:{Environment.NewLine}{StandardError}";
}

/// <summary>A command-line tool the deployment tests need (kubectl, promtool), looked up on PATH.</summary>
public sealed class ExternalTool(string name, string installHint)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static ExternalTool Kubectl { get; } = new("kubectl", "install kubectl (with kustomize v5, e.g. the `kubectl` package of the pkgs.k8s.io apt repository)");

    public static ExternalTool Promtool { get; } = new("promtool", "install Debian's `prometheus` package (apt-get install prometheus), which ships promtool");

    public string Name => name;

    /// <summary>The tool's full path, or null when it is not on PATH.</summary>
    public string? Locate()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The tool's full path; fails the test with an instruction when it is missing.</summary>
    public string Require() =>
        Locate() ?? throw new InvalidOperationException($"`{name}` is not on PATH: {installHint}.");

    /// <summary>Runs the tool in the repository root and waits for it.</summary>
    public ToolResult Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(Require())
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"`{name}` did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{name} {string.Join(' ', arguments)}` did not finish within {Timeout.TotalSeconds}s.");
        }

        return new ToolResult(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
