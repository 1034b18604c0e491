using System.Text;
using YamlDotNet.RepresentationModel;

namespace Gateway.Deployment.Tests.Infrastructure;

/// <summary>Null-tolerant reading of parsed YAML: a missing key or a node of the wrong shape reads as null or empty.</summary>
public static class YamlNavigation
{
    public static YamlNode? Child(this YamlNode? node, string key) =>
        node is YamlMappingNode mapping && mapping.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

    public static YamlNode? At(this YamlNode? node, params string[] path)
    {
        foreach (var key in path)
        {
            node = node.Child(key);
        }

        return node;
    }

    public static string? Text(this YamlNode? node) => (node as YamlScalarNode)?.Value;

    public static string? Text(this YamlNode? node, params string[] path) => node.At(path).Text();

    public static IReadOnlyList<YamlNode> Items(this YamlNode? node) =>
        node is YamlSequenceNode sequence ? [.. sequence.Children] : [];

    public static IReadOnlyList<YamlNode> Items(this YamlNode? node, params string[] path) => node.At(path).Items();

    /// <summary>The scalar text of each node (at <paramref name="path"/>), empty where there is none.</summary>
    public static string[] Texts(this IEnumerable<YamlNode> nodes, params string[] path) =>
        [.. nodes.Select(node => node.Text(path) ?? string.Empty)];

    public static IReadOnlyDictionary<string, string> StringMap(this YamlNode? node) =>
        node is YamlMappingNode mapping
            ? mapping.Children.ToDictionary(entry => ((YamlScalarNode)entry.Key).Value ?? string.Empty, entry => entry.Value.Text() ?? string.Empty, StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The first item of a sequence whose <c>name</c> is <paramref name="name"/>.</summary>
    public static YamlNode? Named(this IEnumerable<YamlNode> items, string name) =>
        items.FirstOrDefault(item => item.Text("name") == name);

    /// <summary>
    /// A text form that is equal for equal data however it was written: mapping keys sorted, scalars by value
    /// (so a block scalar and a quoted string with the same text compare equal), sequences in order.
    /// </summary>
    public static string Canonical(this YamlNode? node)
    {
        var builder = new StringBuilder();
        Write(node, builder);
        return builder.ToString();
    }

    /// <summary>Every document of a multi-document YAML text whose root is a mapping.</summary>
    public static IReadOnlyList<YamlMappingNode> LoadDocuments(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return [.. stream.Documents.Select(document => document.RootNode).OfType<YamlMappingNode>()];
    }

    private static void Write(YamlNode? node, StringBuilder builder)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                builder.Append('{');
                foreach (var (key, value) in mapping.Children.OrderBy(entry => entry.Key.Text(), StringComparer.Ordinal))
                {
                    builder.Append(Quote(key.Text())).Append(':');
                    Write(value, builder);
                    builder.Append(',');
                }

                builder.Append('}');
                break;
            case YamlSequenceNode sequence:
                builder.Append('[');
                foreach (var item in sequence.Children)
                {
                    Write(item, builder);
                    builder.Append(',');
                }

                builder.Append(']');
                break;
            case YamlScalarNode scalar:
                builder.Append(Quote(scalar.Value));
                break;
            default:
                builder.Append("null");
                break;
        }
    }

    private static string Quote(string? text) => text is null ? "null" : $"\"{text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"";
}
