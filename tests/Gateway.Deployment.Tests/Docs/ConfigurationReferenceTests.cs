using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Gateway.Deployment.Tests.Infrastructure;
using Gateway.Hosting.Configuration;
using YamlDotNet.RepresentationModel;

namespace Gateway.Deployment.Tests.Docs;

/// <summary>
/// <c>docs/configuration.md</c> against the code: every key the <c>gateway.yml</c> parser accepts (read from the
/// parser's source, where each mapping lists its known keys) and every variable of <see cref="EnvironmentVariables"/>
/// is documented, and the annotated example uses every key and is accepted by the parser. A key or variable added to
/// the code without a line in the reference fails here.
/// </summary>
public sealed partial class ConfigurationReferenceTests
{
    public const string Reference = "docs/configuration.md";
    public const string ParserSources = "src/Gateway.Hosting/Configuration";
    public const string ExampleHeading = "### A complete, annotated example";

    private static readonly Lazy<string> Text = new(() => RepositoryRoot.ReadText(Reference));

    [Fact]
    public void ParserKeys_ReadFromTheSource_IncludeEveryLevelOfTheSchema()
    {
        var keys = ParserKeys();

        // Root, upstream, health check, route, policy, session, login and ratelimit mappings: the extraction found them all.
        string[] expected = ["upstreams", "trusted_proxies", "destinations", "health_check", "interval", "forward_client_headers", "burst", "max_lifetime", "secure_cookie", "on_backend_failure", "tiers"];
        Assert.All(expected, key => Assert.Contains(key, keys));
    }

    [Fact]
    public void Reference_ParserKeys_AreEachDocumentedAsCode()
    {
        var missing = ParserKeys().Where(key => !MentionsAsCode(Text.Value, key)).ToList();

        Assert.True(missing.Count == 0, $"{Reference} does not document these gateway.yml keys (as `key` or `parent.key`): {string.Join(", ", missing)}");
    }

    [Fact]
    public void Reference_Example_UsesEveryParserKey()
    {
        var used = YamlKeys(Example());

        var missing = ParserKeys().Where(key => !used.Contains(key)).ToList();

        Assert.True(missing.Count == 0, $"the complete example of {Reference} does not use these gateway.yml keys: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Reference_Example_IsAcceptedByTheParser()
    {
        var result = GatewayConfigParser.Parse(Example());

        Assert.True(result.IsValid, $"the complete example of {Reference} is refused: {string.Join("; ", result.Errors)}");
    }

    [Fact]
    public void Reference_EnvironmentVariables_AreEachDocumentedAsCode()
    {
        var names = typeof(EnvironmentVariables)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral && field.FieldType == typeof(string))
            .Select(field => (string)field.GetRawConstantValue()!)
            .ToList();

        var missing = names.Where(name => !Text.Value.Contains($"`{name}`", StringComparison.Ordinal)).ToList();

        Assert.Contains(EnvironmentVariables.ManagementUrls, names);
        Assert.True(names.Count >= 14, $"only {names.Count} variables found in {nameof(EnvironmentVariables)}");
        Assert.True(missing.Count == 0, $"{Reference} does not document these environment variables: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Docs_Text_NeverPointsOutsideTheRepository()
    {
        var documents = Directory.GetFiles(RepositoryRoot.Combine("docs"), "*.md").Append(RepositoryRoot.Combine("README.md")).ToList();

        Assert.Contains(documents, path => path.EndsWith("http.md", StringComparison.Ordinal));
        Assert.All(documents, path =>
        {
            var text = File.ReadAllText(path);
            Assert.False(text.Contains("shared folder", StringComparison.OrdinalIgnoreCase), $"{Path.GetFileName(path)} mentions a shared folder");
            Assert.False(text.Contains("CONTRACT.md", StringComparison.OrdinalIgnoreCase), $"{Path.GetFileName(path)} points to CONTRACT.md, which is not in the repository");
        });
    }

    [Theory]
    [InlineData("docs/configuration.md")]
    [InlineData("docs/http.md")]
    [InlineData("docs/security.md")]
    [InlineData("docs/runbook.md")]
    public void Readme_ReferenceDocuments_AreLinked(string document)
    {
        var readme = RepositoryRoot.ReadText("README.md");

        Assert.Contains($"]({document})", readme, StringComparison.Ordinal);
        Assert.True(File.Exists(RepositoryRoot.Combine(document)), $"README.md links {document}, which does not exist");
    }

    /// <summary>
    /// Every key the parser accepts: the string literals after the node and key arguments of each
    /// <c>.Mapping(node, key, "known", ...)</c> call in the configuration sources.
    /// </summary>
    internal static IReadOnlySet<string> ParserKeys()
    {
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(RepositoryRoot.Combine(ParserSources), "*.cs"))
        {
            var source = File.ReadAllText(file);
            foreach (Match call in MappingCall().Matches(source))
            {
                var arguments = Arguments(source, call.Index + call.Length);
                foreach (var argument in arguments.Skip(2))
                {
                    if (StringLiteral().Match(argument) is { Success: true } literal)
                    {
                        keys.Add(literal.Groups[1].Value);
                    }
                }
            }
        }

        return keys;
    }

    /// <summary>The top-level arguments of a call whose opening parenthesis ends just before <paramref name="start"/>.</summary>
    private static List<string> Arguments(string source, int start)
    {
        var arguments = new List<string>();
        var current = new StringBuilder();
        var depth = 0;
        var inString = false;
        for (var i = start; i < source.Length; i++)
        {
            var c = source[i];
            if (inString)
            {
                current.Append(c);
                if (c == '\\' && i + 1 < source.Length)
                {
                    current.Append(source[++i]);
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    inString = true;
                    current.Append(c);
                    break;
                case '(' or '[' or '{':
                    depth++;
                    current.Append(c);
                    break;
                case ')' or ']' or '}' when depth == 0:
                    arguments.Add(current.ToString().Trim());
                    return arguments;
                case ')' or ']' or '}':
                    depth--;
                    current.Append(c);
                    break;
                case ',' when depth == 0:
                    arguments.Add(current.ToString().Trim());
                    current.Clear();
                    break;
                default:
                    current.Append(c);
                    break;
            }
        }

        return arguments;
    }

    /// <summary>True when the text has <c>`key`</c> or a dotted path ending in the key, such as <c>`session.login.path`</c>.</summary>
    private static bool MentionsAsCode(string text, string key) =>
        Regex.IsMatch(text, $@"`(?:[^`\s]*\.)?{Regex.Escape(key)}`");

    /// <summary>The YAML block that follows the example heading.</summary>
    private static string Example()
    {
        var heading = Text.Value.IndexOf(ExampleHeading, StringComparison.Ordinal);
        Assert.True(heading >= 0, $"{Reference} has no \"{ExampleHeading}\" section");
        var block = YamlBlock().Match(Text.Value, heading);
        Assert.True(block.Success, $"no ```yaml block follows \"{ExampleHeading}\" in {Reference}");
        return block.Groups[1].Value;
    }

    /// <summary>Every mapping key anywhere in a YAML document.</summary>
    private static HashSet<string> YamlKeys(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<YamlNode>([stream.Documents[0].RootNode]);
        while (pending.TryPop(out var node))
        {
            switch (node)
            {
                case YamlMappingNode mapping:
                    foreach (var (key, value) in mapping.Children)
                    {
                        if (key is YamlScalarNode { Value: { } name })
                        {
                            keys.Add(name);
                        }

                        pending.Push(value);
                    }

                    break;
                case YamlSequenceNode sequence:
                    foreach (var child in sequence.Children)
                    {
                        pending.Push(child);
                    }

                    break;
            }
        }

        return keys;
    }

    [GeneratedRegex(@"\.Mapping\(")]
    private static partial Regex MappingCall();

    [GeneratedRegex(@"^""([A-Za-z0-9_]+)""$")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"```yaml\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex YamlBlock();
}
