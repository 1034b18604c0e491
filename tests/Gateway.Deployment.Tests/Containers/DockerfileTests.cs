using System.Text.RegularExpressions;
using Gateway.Deployment.Tests.Infrastructure;

namespace Gateway.Deployment.Tests.Containers;

/// <summary>The image: a multi-stage .NET 10 build, non-root, read-only friendly, both apps behind one entrypoint.</summary>
public sealed partial class DockerfileTests
{
    private readonly Dockerfile _dockerfile = Dockerfile.Load();

    [Fact]
    public void Dockerfile_Stages_BuildWithSdkAndRunOnAspNetRuntime()
    {
        var froms = _dockerfile.Instructions.Where(i => i.Keyword == "FROM").Select(i => ResolveVersion(i.Arguments)).ToList();

        Assert.Equal(2, froms.Count);
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/sdk:10\.0\.\d+ AS build$", froms[0]);
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/aspnet:10\.0\.\d+ AS runtime$", froms[1]);
    }

    [Fact]
    public void Dockerfile_BaseImages_ArePinnedToAFullPatchVersionWithAnUpdateNote()
    {
        var args = _dockerfile.Instructions.Where(i => i.Keyword == "ARG").Select(i => i.Arguments).ToList();

        Assert.Contains(args, arg => FullVersion().IsMatch(arg) && arg.StartsWith("SDK_VERSION=", StringComparison.Ordinal));
        Assert.Contains(args, arg => FullVersion().IsMatch(arg) && arg.StartsWith("ASPNET_VERSION=", StringComparison.Ordinal));
        Assert.Contains("To update:", RepositoryRoot.ReadText("Dockerfile"), StringComparison.Ordinal);
    }

    [Fact]
    public void Dockerfile_BuildStage_PublishesEdgeAndSiloIntoTheFolderTheRuntimeCopies()
    {
        var runs = string.Join('\n', _dockerfile.InStage(0).Where(i => i.Keyword == "RUN").Select(i => i.Arguments));
        var copy = Assert.Single(_dockerfile.InStage(1), i => i.Keyword == "COPY" && i.Arguments.Contains("--from=build", StringComparison.Ordinal));

        foreach (var project in new[] { "src/Gateway.Edge/Gateway.Edge.csproj", "src/Gateway.Silo/Gateway.Silo.csproj" })
        {
            Assert.Matches($"dotnet publish {Regex.Escape(project)} -c Release .*-o /app/publish", runs);
        }

        Assert.Contains("/app/publish", copy.Arguments, StringComparison.Ordinal);
    }

    [Fact]
    public void Dockerfile_CopySources_ExistInTheRepository()
    {
        var sources = _dockerfile.Instructions
            .Where(i => i.Keyword == "COPY" && !i.Arguments.Contains("--from=", StringComparison.Ordinal))
            .SelectMany(i =>
            {
                var parts = i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(p => !p.StartsWith("--", StringComparison.Ordinal)).ToArray();
                return parts[..^1];
            })
            .ToList();

        Assert.NotEmpty(sources);
        Assert.All(sources, source =>
            Assert.True(File.Exists(RepositoryRoot.Combine(source.TrimEnd('/'))) || Directory.Exists(RepositoryRoot.Combine(source.TrimEnd('/'))), $"COPY source {source} does not exist"));
    }

    [Fact]
    public void Dockerfile_ProjectsRestoredFirst_AreEveryProjectTheAppsReference()
    {
        var copied = _dockerfile.InStage(0)
            .Where(i => i.Keyword == "COPY" && i.Arguments.Contains(".csproj", StringComparison.Ordinal))
            .Select(i => i.Arguments.Split(' ')[0])
            .ToHashSet(StringComparer.Ordinal);
        var needed = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(["src/Gateway.Edge/Gateway.Edge.csproj", "src/Gateway.Silo/Gateway.Silo.csproj"]);
        while (pending.TryPop(out var project))
        {
            if (!needed.Add(project))
            {
                continue;
            }

            var directory = Path.GetDirectoryName(project)!;
            foreach (Match reference in ProjectReference().Matches(RepositoryRoot.ReadText(project)))
            {
                var relative = Path.GetRelativePath(RepositoryRoot.Path, Path.GetFullPath(Path.Combine(RepositoryRoot.Combine(directory), reference.Groups[1].Value.Replace('\\', '/'))));
                pending.Push(relative.Replace('\\', '/'));
            }
        }

        Assert.Equal(needed.Order(StringComparer.Ordinal), copied.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Dockerfile_RuntimeStage_RunsAsTheNonRootAppUser()
    {
        var user = Assert.Single(_dockerfile.InStage(1), i => i.Keyword == "USER");

        Assert.Contains(user.Arguments, new[] { "$APP_UID", "1654", "app" });
        // USER is the last identity change: nothing after it runs as root.
        Assert.DoesNotContain(_dockerfile.InStage(1).SkipWhile(i => i.Keyword != "USER").Skip(1), i => i.Keyword is "RUN" or "USER");
    }

    [Fact]
    public void Dockerfile_Entrypoint_IsDotnetWithTheEdgeAsDefaultArgument()
    {
        var stage = _dockerfile.InStage(1).ToList();

        Assert.Equal("[\"dotnet\"]", Assert.Single(stage, i => i.Keyword == "ENTRYPOINT").Arguments);
        Assert.Equal("[\"Gateway.Edge.dll\"]", Assert.Single(stage, i => i.Keyword == "CMD").Arguments);
        Assert.Equal("/app", Assert.Single(stage, i => i.Keyword == "WORKDIR").Arguments);
    }

    [Fact]
    public void Dockerfile_Environment_PointsAtImageConfigAndSuitsAReadOnlyRoot()
    {
        var env = string.Join(' ', _dockerfile.InStage(1).Where(i => i.Keyword == "ENV").Select(i => i.Arguments));

        Assert.Contains("GATEWAY_CONFIG=/app/config/gateway.yml", env, StringComparison.Ordinal);
        Assert.Contains("DOTNET_EnableDiagnostics=0", env, StringComparison.Ordinal);
        Assert.Contains("ASPNETCORE_URLS=http://0.0.0.0:8080", env, StringComparison.Ordinal);
        Assert.Contains(_dockerfile.InStage(1), i => i.Keyword == "COPY" && i.Arguments.EndsWith("config/gateway.yml /app/config/gateway.yml", StringComparison.Ordinal));
    }

    [Fact]
    public void Dockerignore_Context_LeavesOutBuildOutputGitAndTests()
    {
        var patterns = RepositoryRoot.ReadText(".dockerignore")
            .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith('#'))
            .ToHashSet(StringComparer.Ordinal);

        Assert.Contains("**/bin/", patterns);
        Assert.Contains("**/obj/", patterns);
        Assert.Contains(".git/", patterns);
        Assert.Contains("tests/", patterns);
        // The build needs these: they must not be ignored.
        Assert.DoesNotContain("src/", patterns);
        Assert.DoesNotContain("config/", patterns);
        Assert.DoesNotContain("Directory.Packages.props", patterns);
    }

    private string ResolveVersion(string from)
    {
        foreach (var arg in _dockerfile.Instructions.Where(i => i.Keyword == "ARG" && i.Arguments.Contains('=', StringComparison.Ordinal)))
        {
            var (name, value) = (arg.Arguments[..arg.Arguments.IndexOf('=', StringComparison.Ordinal)], arg.Arguments[(arg.Arguments.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            from = from.Replace("${" + name + "}", value, StringComparison.Ordinal);
        }

        return from;
    }

    [GeneratedRegex(@"^[A-Z_]+=\d+\.\d+\.\d+$")]
    private static partial Regex FullVersion();

    [GeneratedRegex("<ProjectReference Include=\"([^\"]+)\"")]
    private static partial Regex ProjectReference();
}
