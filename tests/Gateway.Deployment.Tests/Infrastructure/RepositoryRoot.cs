using System.Reflection;

namespace Gateway.Deployment.Tests.Infrastructure;

/// <summary>
/// The repository's root directory: the first directory holding <c>Gateway.sln</c> above the test binaries, the
/// working directory, or this project's source directory (recorded at build time, for builds with --artifacts-path).
/// </summary>
public static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Path => Root.Value;

    /// <summary>An absolute path for a repository-relative one written with forward slashes.</summary>
    public static string Combine(string relativePath) =>
        System.IO.Path.Combine([Path, .. relativePath.Split('/')]);

    public static string ReadText(string relativePath) => File.ReadAllText(Combine(relativePath));

    private static string Find()
    {
        var projectDirectory = typeof(RepositoryRoot).Assembly
            .GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(attribute => attribute.Key == "ProjectDirectory")?.Value;
        string?[] starts = [AppContext.BaseDirectory, Environment.CurrentDirectory, projectDirectory];
        foreach (var start in starts.OfType<string>())
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(System.IO.Path.Combine(directory.FullName, "Gateway.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        throw new InvalidOperationException($"No Gateway.sln above {string.Join(" or ", starts.OfType<string>())}: the tests must run from the repository.");
    }
}
