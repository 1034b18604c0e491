namespace Gateway.Testing;

/// <summary>Finds the repository root and the built programs that tests start as real processes.</summary>
public static class RepositoryLayout
{
    public static string Root { get; } = FindRoot();

    /// <summary>
    /// The built <c>{project}.dll</c> of the same configuration as the running tests, in the classic
    /// (<c>src/X/bin/Debug/net10.0</c>) or the artifacts (<c>artifacts/bin/X/debug</c>) layout.
    /// </summary>
    public static string ProgramPath(string project)
    {
        var testDirectory = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var configuration = new DirectoryInfo(testDirectory).Parent?.Name ?? "Debug";
        var candidates = new List<string>();

        // Artifacts layout: <artifacts>/bin/<TestProject>/<config>/ -> <artifacts>/bin/<project>/<config>/
        var configDir = new DirectoryInfo(testDirectory);
        if (configDir.Parent?.Parent is { } binRoot)
        {
            candidates.Add(Path.Combine(binRoot.FullName, project, configDir.Name, project + ".dll"));
        }

        foreach (var folder in new[] { "src", "samples" })
        {
            candidates.Add(Path.Combine(Root, folder, project, "bin", configuration, "net10.0", project + ".dll"));
            candidates.Add(Path.Combine(Root, folder, project, "bin", "Debug", "net10.0", project + ".dll"));
            candidates.Add(Path.Combine(Root, folder, project, "bin", "Release", "net10.0", project + ".dll"));
        }

        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"{project}.dll is not built; looked in: {string.Join(", ", candidates)}");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            {
                return dir.FullName;
            }
        }

        var recorded = typeof(RepositoryLayout).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RepositoryRoot")?.Value;
        if (recorded is not null && File.Exists(Path.Combine(recorded, "Gateway.sln")))
        {
            return recorded;
        }

        throw new DirectoryNotFoundException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }
}
