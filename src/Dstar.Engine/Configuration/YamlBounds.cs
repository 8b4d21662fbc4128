using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Dstar.Engine.Configuration;

/// <summary>
/// Checks a YAML text against <see cref="ConfigLimits"/> before it is turned into a node tree: its nesting depth and
/// the number of nodes it stands for once every alias is expanded. It walks the parser's event stream (which keeps its
/// own stack, so deep nesting cannot overflow the call stack) and counts each anchored node's expanded size, so a
/// 275-byte file of nested aliases that would expand to hundreds of megabytes is refused after reading it once.
/// </summary>
public static class YamlBounds
{
    /// <summary>Why <paramref name="yaml"/> is too large or too deep, or null when it is within the limits.</summary>
    /// <exception cref="YamlException">the text is not valid YAML (the caller reports it with its position).</exception>
    public static string? Check(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        var anchors = new Dictionary<string, long>(StringComparer.Ordinal);
        // One frame per open mapping or list: the nodes counted inside it so far, and its anchor.
        var open = new Stack<(long Count, string? Anchor)>();
        long total = 0;

        string? Add(long nodes)
        {
            if (open.Count > 0)
            {
                var (count, anchor) = open.Pop();
                open.Push((count + nodes, anchor));
            }
            else
            {
                total += nodes;
            }

            long sum = total + open.Sum(f => f.Count);
            return sum > ConfigLimits.MaxYamlNodes
                ? string.Create(CultureInfo.InvariantCulture,
                    $"the YAML stands for more than {ConfigLimits.MaxYamlNodes} nodes once its aliases (*name) are expanded: the limit is {ConfigLimits.MaxYamlNodes}")
                : null;
        }

        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case Scalar scalar:
                    if (!scalar.Anchor.IsEmpty)
                    {
                        anchors[scalar.Anchor.Value] = 1;
                    }

                    if (Add(1) is { } tooManyScalars)
                    {
                        return tooManyScalars;
                    }

                    break;
                case AnchorAlias alias:
                    if (!anchors.TryGetValue(alias.Value.Value, out var size))
                    {
                        return $"the alias *{alias.Value.Value} refers to no anchor defined before it";
                    }

                    if (Add(size) is { } tooManyAliased)
                    {
                        return tooManyAliased;
                    }

                    break;
                case NodeEvent start when start is MappingStart or SequenceStart:
                    if (open.Count >= ConfigLimits.MaxYamlDepth)
                    {
                        return string.Create(CultureInfo.InvariantCulture,
                            $"the YAML nests mappings and lists more than {ConfigLimits.MaxYamlDepth} levels deep: the limit is {ConfigLimits.MaxYamlDepth}");
                    }

                    open.Push((1, start.Anchor.IsEmpty ? null : start.Anchor.Value));
                    break;
                case MappingEnd or SequenceEnd:
                    var (nodes, name) = open.Pop();
                    if (name is not null)
                    {
                        anchors[name] = nodes;
                    }

                    if (Add(nodes) is { } tooManyNodes)
                    {
                        return tooManyNodes;
                    }

                    break;
            }
        }

        return null;
    }
}
