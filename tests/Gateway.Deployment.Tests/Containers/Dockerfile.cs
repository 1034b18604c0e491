using System.Text;
using Gateway.Deployment.Tests.Infrastructure;

namespace Gateway.Deployment.Tests.Containers;

/// <summary>One instruction of a Dockerfile, continuation lines joined, with the index of its build stage.</summary>
public sealed record DockerInstruction(string Keyword, string Arguments, int Stage);

/// <summary>The repository's Dockerfile as a list of instructions (enough to check its structure without an engine).</summary>
public sealed class Dockerfile
{
    private Dockerfile(IReadOnlyList<DockerInstruction> instructions) => Instructions = instructions;

    public IReadOnlyList<DockerInstruction> Instructions { get; }

    public IEnumerable<DockerInstruction> InStage(int stage) => Instructions.Where(i => i.Stage == stage);

    public static Dockerfile Load() => Parse(RepositoryRoot.ReadText("Dockerfile"));

    public static Dockerfile Parse(string text)
    {
        var instructions = new List<DockerInstruction>();
        var stage = -1;
        var current = new StringBuilder();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (current.Length == 0 && (line.TrimStart().StartsWith('#') || string.IsNullOrWhiteSpace(line)))
            {
                continue;
            }

            if (line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current.Append(line[..^1]).Append(' ');
                continue;
            }

            current.Append(line);
            var full = current.ToString().Trim();
            current.Clear();
            var space = full.IndexOf(' ', StringComparison.Ordinal);
            var keyword = (space < 0 ? full : full[..space]).ToUpperInvariant();
            var arguments = space < 0 ? string.Empty : full[(space + 1)..].Trim();
            if (keyword == "FROM")
            {
                stage++;
            }

            instructions.Add(new DockerInstruction(keyword, arguments, stage));
        }

        return new Dockerfile(instructions);
    }
}
