using System.Globalization;
using Dstar.Engine.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Dstar.Engine.Guarantees;

/// <summary>
/// Reads the small YAML study files of <c>dstar resilience --grid</c> and <c>--convergence</c>: a <c>config:</c>
/// mapping (an ordinary experiment config) plus scalar and list keys. Every problem names the key and the value.
/// </summary>
internal sealed class StudyFile
{
    private readonly YamlMappingNode _root;
    private readonly string _path;

    private StudyFile(string path, YamlMappingNode root)
    {
        _path = path;
        _root = root;
    }

    /// <exception cref="ArgumentException">the file is missing, too large, not YAML, or not a mapping.</exception>
    /// <exception cref="IOException">the file cannot be read (a directory, no permission); the message names it.</exception>
    public static StudyFile Load(string path, IEnumerable<string> knownKeys)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new ArgumentException($"study file {path} does not exist");
        }

        string text;
        try
        {
            text = ConfigLoader.ReadSmallFile(path)
                ?? throw new ArgumentException($"{path}: larger than {ConfigLimits.MaxDocumentBytes} bytes: the limit is {ConfigLimits.MaxDocumentBytes} (a study file is a few hundred bytes)");
        }
        catch (IOException e)
        {
            throw new IOException($"{path}: cannot read the file: {e.Message}", e);
        }

        var stream = new YamlStream();
        try
        {
            // Nodes and nesting are bounded before the tree is built (nested aliases would expand to gigabytes).
            if (YamlBounds.Check(text) is { } tooLarge)
            {
                throw new ArgumentException($"{path}: {tooLarge}");
            }

            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ArgumentException($"{path}: not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ArgumentException($"{path}: the top level must be a mapping of key: value");
        }

        var known = knownKeys.ToHashSet(StringComparer.Ordinal);
        foreach (var key in root.Children.Keys)
        {
            if (key is not YamlScalarNode { Value: { } name } || !known.Contains(name))
            {
                throw new ArgumentException($"{path}: unknown key '{key}' (known: {string.Join(", ", known.Order())})");
            }
        }

        return new StudyFile(path, root);
    }

    /// <summary>The <c>config:</c> mapping as an experiment config, with <paramref name="overrides"/> applied.</summary>
    /// <exception cref="ConfigException">the config is invalid.</exception>
    public ExperimentConfig Config(IEnumerable<string> overrides)
    {
        string yaml = "";
        if (_root.Children.TryGetValue(new YamlScalarNode("config"), out var node))
        {
            if (node is not YamlMappingNode)
            {
                throw new ArgumentException($"{_path}: config must be a mapping of experiment keys (docs/config.md)");
            }

            var writer = new StringWriter();
            new YamlStream(new YamlDocument(node)).Save(writer, assignAnchors: false);
            yaml = writer.ToString();
        }

        return ConfigLoader.Load(yaml, overrides);
    }

    public int Int(string key, int fallback, int min, int max = int.MaxValue)
    {
        if (!_root.Children.TryGetValue(new YamlScalarNode(key), out var node))
        {
            return fallback;
        }

        if (node is YamlScalarNode { Value: { } text } && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max)
        {
            return value;
        }

        throw new ArgumentException(max == int.MaxValue
            ? $"{_path}: {key} = '{node}' must be an integer ≥ {min}"
            : $"{_path}: {key} = '{node}' must be an integer in {min}..{max}");
    }

    public IReadOnlyList<string> Strings(string key, IReadOnlyList<string> fallback)
    {
        if (!_root.Children.TryGetValue(new YamlScalarNode(key), out var node))
        {
            return fallback;
        }

        if (node is YamlSequenceNode sequence && sequence.Children.Count > 0 && sequence.Children.All(c => c is YamlScalarNode { Value.Length: > 0 }))
        {
            return sequence.Children.Select(c => ((YamlScalarNode)c).Value!).ToArray();
        }

        throw new ArgumentException($"{_path}: {key} must be a non-empty list of strings, e.g. [mean, median]");
    }

    public IReadOnlyList<int> Ints(string key, IReadOnlyList<int> fallback, int min) =>
        Strings(key, fallback.Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray())
            .Select(text => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min
                ? v
                : throw new ArgumentException($"{_path}: {key} holds '{text}', not an integer ≥ {min}"))
            .ToArray();
}
