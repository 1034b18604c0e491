using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Gateway.Hosting.Configuration;

/// <summary>
/// Reads typed values out of a YAML node tree and records every problem with its key path and line,
/// so that one pass over a file reports all of its errors.
/// </summary>
internal sealed class YamlNodeReader
{
    private readonly List<ConfigError> _errors = [];

    public IReadOnlyList<ConfigError> Errors => _errors;

    public void Error(string key, string message, YamlNode? node = null) =>
        _errors.Add(new ConfigError(key, message, node is null ? null : (int)node.Start.Line));

    /// <summary>The mapping at <paramref name="node"/>, reporting keys that are not in <paramref name="known"/>.</summary>
    public YamlMappingNode? Mapping(YamlNode? node, string key, params string[] known)
    {
        if (node is null || IsNull(node))
        {
            return null;
        }

        if (node is not YamlMappingNode mapping)
        {
            Error(key, "must be a mapping", node);
            return null;
        }

        foreach (var child in mapping.Children.Keys)
        {
            if (child is not YamlScalarNode { Value: { } name })
            {
                Error(key, "keys must be plain names, not lists or mappings", child);
                continue;
            }

            if (known.Length > 0 && !known.Contains(name, StringComparer.Ordinal))
            {
                Error(Join(key, name), $"unknown key; expected one of: {string.Join(", ", known)}", child);
            }
        }

        return mapping;
    }

    /// <summary>The entries of a mapping of user-chosen names (upstreams, tiers); entries with a non-scalar key are skipped (<see cref="Mapping"/> reported them).</summary>
    public static IEnumerable<(string Name, YamlNode KeyNode, YamlNode Value)> Entries(YamlMappingNode mapping)
    {
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (keyNode is YamlScalarNode { Value: { } name })
            {
                yield return (name, keyNode, value);
            }
        }
    }

    public static YamlNode? Child(YamlMappingNode? mapping, string name) =>
        mapping is not null && mapping.Children.TryGetValue(new YamlScalarNode(name), out var value) ? value : null;

    public static string Join(string parent, string child) => parent.Length == 0 ? child : $"{parent}.{child}";

    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Value: null or "" or "~" or "null", Style: not (YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted) };

    public string? String(YamlNode? node, string key, bool required = false)
    {
        if (node is null || IsNull(node))
        {
            if (required)
            {
                Error(key, "is required", node);
            }

            return null;
        }

        if (node is not YamlScalarNode scalar)
        {
            Error(key, "must be a single value", node);
            return null;
        }

        return scalar.Value;
    }

    /// <summary>The longest duration any key accepts unless it says otherwise.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(365);

    public TimeSpan? Duration(YamlNode? node, string key, bool required = false, TimeSpan? max = null)
    {
        var text = String(node, key, required);
        if (text is null)
        {
            return null;
        }

        if (!DurationParser.TryParse(text, out var duration) || duration <= TimeSpan.Zero)
        {
            Error(key, $"'{text}' is not {DurationParser.Expected}, greater than zero", node);
            return null;
        }

        var limit = max ?? MaxDuration;
        if (duration > limit)
        {
            Error(key, $"'{text}' is longer than the largest value this key accepts ({DurationText(limit)})", node);
            return null;
        }

        return duration;
    }

    private static string DurationText(TimeSpan duration) =>
        duration.TotalHours >= 1 && duration.Ticks % TimeSpan.TicksPerHour == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{(long)duration.TotalHours}h")
            : string.Create(CultureInfo.InvariantCulture, $"{(long)duration.TotalSeconds}s");

    public long? PositiveInteger(YamlNode? node, string key, bool required = false)
    {
        var text = String(node, key, required);
        if (text is null)
        {
            return null;
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0)
        {
            Error(key, $"'{text}' is not a whole number greater than zero", node);
            return null;
        }

        return value;
    }

    public bool? Boolean(YamlNode? node, string key)
    {
        var text = String(node, key);
        if (text is null)
        {
            return null;
        }

        if (!bool.TryParse(text, out var value))
        {
            Error(key, $"'{text}' is not true or false", node);
            return null;
        }

        return value;
    }

    public TEnum? Enum<TEnum>(YamlNode? node, string key)
        where TEnum : struct, Enum
    {
        var text = String(node, key);
        if (text is null)
        {
            return null;
        }

        foreach (var value in System.Enum.GetValues<TEnum>())
        {
            if (string.Equals(value.ToString(), text, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        var allowed = string.Join(" | ", System.Enum.GetNames<TEnum>().Select(n => n.ToLowerInvariant()));
        Error(key, $"'{text}' is not one of {allowed}", node);
        return null;
    }

    /// <summary>A list of scalars; a single scalar is accepted as a list of one.</summary>
    public List<(string Value, YamlNode Node, string Key)> StringList(YamlNode? node, string key)
    {
        var result = new List<(string, YamlNode, string)>();
        switch (node)
        {
            case null:
                break;
            case YamlSequenceNode sequence:
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    var itemKey = $"{key}[{i}]";
                    if (String(sequence.Children[i], itemKey, required: true) is { } value)
                    {
                        result.Add((value, sequence.Children[i], itemKey));
                    }
                }

                break;
            case YamlScalarNode when IsNull(node):
                break;
            case YamlScalarNode scalar:
                result.Add((scalar.Value ?? string.Empty, scalar, key));
                break;
            default:
                Error(key, "must be a list", node);
                break;
        }

        return result;
    }
}
