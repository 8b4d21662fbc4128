using System.Globalization;
using Dstar.Engine.Configuration;
using Dstar.Engine.Guarantees;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Dstar.Studies.Definition;

/// <summary>
/// Reads a study file (docs/studies.md) and checks its shape: every problem is reported at once, one line each,
/// naming the key, the value and what is needed, before any cell is expanded or run. The experiments the cells expand
/// to are checked afterwards by <see cref="StudyPlan.Expand"/> with the config validator.
/// </summary>
public static class StudyLoader
{
    /// <summary>The keys a study file may hold at its top level.</summary>
    public static IReadOnlyList<string> TopLevelKeys { get; } = ["name", "base_config", "base", "grid", "cases", "seeds", "tune", "report", "resilience"];

    /// <summary>The keys of the <c>report:</c> block.</summary>
    public static IReadOnlyList<string> ReportKeys { get; } = ["target_accuracy"];

    /// <summary>The most rounds <c>resilience.draws</c> may ask for at one point.</summary>
    public const int MaxResilienceDraws = ResilienceOptions.MaxDraws;

    /// <summary>The one config key whose single value is a list.</summary>
    public const string ListKey = "pre";

    /// <summary>Reads <paramref name="path"/>; <c>base_config</c> is found relative to the study file's folder.</summary>
    /// <exception cref="StudyException">the file cannot be read, or any part of it is bad (all problems listed).</exception>
    public static Study LoadFile(string path)
    {
        var errors = new List<ConfigError>();
        if (ReadText(path, "(study)", path, errors, out bool unreadable) is not { } text)
        {
            throw new StudyException(errors) { Unreadable = unreadable };
        }

        return Load(text, Path.GetFileNameWithoutExtension(path), Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".");
    }

    /// <summary>Reads a study from its YAML text.</summary>
    /// <param name="yaml">The study file's text.</param>
    /// <param name="defaultName">The name when the file has no <c>name:</c>.</param>
    /// <param name="folder">Where a relative <c>base_config</c> path starts.</param>
    /// <exception cref="StudyException">any part of it is bad (all problems listed).</exception>
    public static Study Load(string yaml, string defaultName, string folder)
    {
        var errors = new List<ConfigError>();
        var root = Parse(yaml, "(study)", errors);
        if (root is null)
        {
            throw new StudyException(errors.Count > 0 ? errors : [new ConfigError("(study)", "", "the file is empty: it needs base:, grid: and seeds:")]);
        }

        var known = ConfigKeys.All.Select(k => k.Name).ToHashSet(StringComparer.Ordinal);
        string name = defaultName;
        var settings = new List<StudySetting>();
        var grid = new List<StudyAxis>();
        var cases = new List<IReadOnlyList<StudySetting>>();
        var caseGroups = new List<IReadOnlyList<string>>();
        var seeds = new List<int>();
        StudyAxis? tune = null;
        double target = Study.DefaultTargetAccuracy;
        StudyResilience? resilience = null;
        bool seedsGiven = false;

        foreach (var (keyNode, value) in root.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "?";
            switch (key)
            {
                case "name":
                    if (value is YamlScalarNode { Value: { Length: > 0 } n })
                    {
                        // The name is a folder's (runs/sweep-NAME when --out is not given): a path would put the
                        // study's files elsewhere.
                        if (n.IndexOfAny(['/', '\\', '\0']) >= 0)
                        {
                            errors.Add(new ConfigError("name", n, "must not contain '/' or '\\': it names the folder runs/sweep-NAME"));
                        }
                        else
                        {
                            name = n;
                        }
                    }
                    else
                    {
                        errors.Add(new ConfigError("name", Show(value), "needs a text"));
                    }

                    break;
                case "base_config":
                    if (value is YamlScalarNode { Value: { Length: > 0 } file })
                    {
                        settings.InsertRange(0, ReadBaseConfig(Path.Combine(folder, file), file, known, errors));
                    }
                    else
                    {
                        errors.Add(new ConfigError("base_config", Show(value), "needs the path of a config file"));
                    }

                    break;
                case "base":
                    if (value is YamlMappingNode baseMap)
                    {
                        settings.AddRange(Settings(baseMap, "base", known, errors));
                    }
                    else
                    {
                        errors.Add(new ConfigError("base", Show(value), "needs a mapping of config keys, e.g. base: {rounds: 100}"));
                    }

                    break;
                case "grid":
                    ReadGrid(value, known, grid, errors);
                    break;
                case "cases":
                    ReadCases(value, known, cases, caseGroups, errors);
                    break;
                case "seeds":
                    seedsGiven = true;
                    ReadSeeds(value, seeds, errors);
                    break;
                case "tune":
                    tune = ReadTune(value, known, errors);
                    break;
                case "report":
                    target = ReadReport(value, errors);
                    break;
                case "resilience":
                    resilience = ReadResilience(value, errors);
                    break;
                default:
                    errors.Add(new ConfigError(key, Show(value), "unknown key (valid: " + string.Join(", ", TopLevelKeys) + ")"));
                    break;
            }
        }

        if (grid.Count == 0 && cases.Count == 0 && !errors.Any(e => e.Key.StartsWith("grid", StringComparison.Ordinal)))
        {
            errors.Add(new ConfigError("grid", "", "empty grid: a study needs at least one key with a list of values under grid: (or one entry under cases:)"));
        }

        if (!seedsGiven)
        {
            seeds.Add(1);
        }

        CheckOverlaps(grid, cases, tune, errors);
        if (errors.Count > 0)
        {
            throw new StudyException(errors);
        }

        return new Study(name, settings, grid, cases, seeds, tune, target, caseGroups, resilience);
    }

    // The text of a study or base config file (at most ConfigLimits.MaxDocumentBytes, so /dev/zero is refused without
    // reading it all), or null with the problem added to errors.
    private static string? ReadText(string path, string key, string written, List<ConfigError> errors) => ReadText(path, key, written, errors, out _);

    // unreadable: the file could not be read at all (missing, a directory, no permission), as opposed to too large.
    private static string? ReadText(string path, string key, string written, List<ConfigError> errors, out bool unreadable)
    {
        unreadable = false;
        try
        {
            if (ConfigLoader.ReadSmallFile(path) is { } text)
            {
                return text;
            }

            errors.Add(new ConfigError(key, written,
                $"larger than {ConfigLimits.MaxDocumentBytes} bytes: the limit is {ConfigLimits.MaxDocumentBytes} (a study or config file is a few kilobytes)"));
        }
        catch (Exception e) when (e is IOException or ArgumentException or NotSupportedException)
        {
            errors.Add(new ConfigError(key, written, "cannot read the file: " + e.Message));
            unreadable = true;
        }

        return null;
    }

    private static YamlMappingNode? Parse(string yaml, string where, List<ConfigError> errors)
    {
        try
        {
            // Nodes and nesting are bounded before the tree is built: a few hundred bytes of nested aliases would
            // otherwise expand to gigabytes.
            if (YamlBounds.Check(yaml) is { } tooLarge)
            {
                errors.Add(new ConfigError(where, "", tooLarge));
                return null;
            }

            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            if (stream.Documents.Count == 0)
            {
                return null;
            }

            if (stream.Documents[0].RootNode is YamlMappingNode root)
            {
                return root;
            }

            errors.Add(new ConfigError(where, "", "the top level must be a mapping of key: value"));
        }
        catch (YamlException e)
        {
            errors.Add(new ConfigError(where, "", $"not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}"));
        }
        catch (InvalidOperationException e)
        {
            errors.Add(new ConfigError(where, "", $"not valid YAML: {e.Message}"));
        }

        return null;
    }

    private static IEnumerable<StudySetting> ReadBaseConfig(string path, string written, HashSet<string> known, List<ConfigError> errors)
    {
        if (ReadText(path, "base_config", written, errors) is not { } text)
        {
            return [];
        }

        var root = Parse(text, "base_config", errors);
        return root is null ? [] : Settings(root, "base_config " + written + ":", known, errors, allowSeed: true).Where(s => s.Key != "seed");
    }

    /// <summary>The leaves of a mapping of config keys (nested mappings give dotted keys), each checked to be one value.</summary>
    private static List<StudySetting> Settings(YamlMappingNode map, string where, HashSet<string> known, List<ConfigError> errors, bool allowSeed = false)
    {
        var result = new List<StudySetting>();
        foreach (var (key, value) in Leaves(map, ""))
        {
            string label = where.EndsWith(':') ? where + " " + key : where + "." + key;
            if (!known.Contains(key))
            {
                errors.Add(new ConfigError(label, Show(value), "unknown config key (valid: " + string.Join(", ", known) + ")"));
            }
            else if (key == "seed" && !allowSeed)
            {
                errors.Add(new ConfigError(label, Show(value), "the seeds are set by seeds: [1, 2, 3], not by a config key"));
            }
            else if (CheckSingle(key, value) is { } why)
            {
                errors.Add(new ConfigError(label, Show(value), why));
            }
            else
            {
                result.Add(new StudySetting(key, value));
            }
        }

        return result;
    }

    private static void ReadGrid(YamlNode node, HashSet<string> known, List<StudyAxis> grid, List<ConfigError> errors)
    {
        if (node is not YamlMappingNode map)
        {
            errors.Add(new ConfigError("grid", Show(node), "needs a mapping of config keys to lists of values, e.g. grid: {aggregator: [mean, dstar]}"));
            return;
        }

        if (map.Children.Count == 0)
        {
            errors.Add(new ConfigError("grid", "{}", "empty grid: give at least one key with a list of values, e.g. grid: {aggregator: [mean, dstar]}"));
            return;
        }

        foreach (var (key, value) in Leaves(map, ""))
        {
            string label = "grid." + key;
            if (!known.Contains(key))
            {
                errors.Add(new ConfigError(label, Show(value), "unknown config key (valid: " + string.Join(", ", known) + ")"));
                continue;
            }

            if (key == "seed")
            {
                errors.Add(new ConfigError(label, Show(value), "the seeds are set by seeds: [1, 2, 3], not in the grid"));
                continue;
            }

            if (value is not YamlSequenceNode list)
            {
                errors.Add(new ConfigError(label, Show(value), "needs a list of values, e.g. [a, b] (a single value belongs in base:)"));
                continue;
            }

            if (list.Children.Count == 0)
            {
                errors.Add(new ConfigError(label, "[]", "empty list: give at least one value"));
                continue;
            }

            var values = new List<YamlNode>();
            for (int i = 0; i < list.Children.Count; i++)
            {
                if (CheckSingle(key, list.Children[i]) is { } why)
                {
                    errors.Add(new ConfigError($"{label}[{i}]", Show(list.Children[i]), why));
                }
                else
                {
                    values.Add(list.Children[i]);
                }
            }

            grid.Add(new StudyAxis(key, values));
        }
    }

    private static void ReadCases(YamlNode node, HashSet<string> known, List<IReadOnlyList<StudySetting>> cases, List<IReadOnlyList<string>> groupKeys, List<ConfigError> errors)
    {
        // One list of cases, or a mapping of named lists whose product is taken (e.g. rules × attacks, each a list of pairs).
        if (node is YamlMappingNode groups && groups.Children.Count > 0)
        {
            var product = new List<IReadOnlyList<StudySetting>> { Array.Empty<StudySetting>() };
            var owner = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (nameNode, listNode) in groups.Children)
            {
                var group = (nameNode as YamlScalarNode)?.Value ?? "?";
                var items = new List<IReadOnlyList<StudySetting>>();
                ReadCaseList(listNode, $"cases.{group}", known, items, errors);
                foreach (var key in items.SelectMany(c => c).Select(c => c.Key).Distinct())
                {
                    if (owner.TryGetValue(key, out var other))
                    {
                        errors.Add(new ConfigError($"cases.{group}", key, $"is also set by cases.{other}: each key belongs to one group of cases"));
                    }
                    else
                    {
                        owner[key] = group;
                    }
                }

                groupKeys.Add(items.SelectMany(c => c).Select(c => c.Key).Distinct().ToArray());
                product = product.SelectMany(p => items.Select(i => (IReadOnlyList<StudySetting>)[.. p, .. i])).ToList();
            }

            cases.AddRange(product);
            return;
        }

        ReadCaseList(node, "cases", known, cases, errors);
        groupKeys.Add(cases.SelectMany(c => c).Select(c => c.Key).Distinct().ToArray());
    }

    private static void ReadCaseList(YamlNode node, string label, HashSet<string> known, List<IReadOnlyList<StudySetting>> cases, List<ConfigError> errors)
    {
        if (node is not YamlSequenceNode list || list.Children.Count == 0)
        {
            errors.Add(new ConfigError(label, Show(node), "needs a non-empty list of mappings, e.g. [{byzantine: 0, attack: none}, {byzantine: 4, attack: alie}], or a mapping of such lists"));
            return;
        }

        for (int i = 0; i < list.Children.Count; i++)
        {
            if (list.Children[i] is not YamlMappingNode map || map.Children.Count == 0)
            {
                errors.Add(new ConfigError($"{label}[{i}]", Show(list.Children[i]), "needs a non-empty mapping of config keys, e.g. {byzantine: 0, attack: none}"));
                continue;
            }

            cases.Add(Settings(map, $"{label}[{i}]", known, errors));
        }
    }

    private static void ReadSeeds(YamlNode node, List<int> seeds, List<ConfigError> errors)
    {
        if (node is not YamlSequenceNode list || list.Children.Count == 0)
        {
            errors.Add(new ConfigError("seeds", Show(node), "needs a non-empty list of integers, e.g. seeds: [1, 2, 3]"));
            return;
        }

        for (int i = 0; i < list.Children.Count; i++)
        {
            var item = list.Children[i];
            if (item is YamlScalarNode { Value: { } text } && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed))
            {
                if (seeds.Contains(seed))
                {
                    errors.Add(new ConfigError($"seeds[{i}]", text, "repeated: each seed once"));
                }
                else
                {
                    seeds.Add(seed);
                }
            }
            else
            {
                errors.Add(new ConfigError($"seeds[{i}]", Show(item), "not an integer: seeds are whole numbers, e.g. seeds: [1, 2, 3]"));
            }
        }
    }

    private static StudyAxis? ReadTune(YamlNode node, HashSet<string> known, List<ConfigError> errors)
    {
        if (node is not YamlMappingNode map || map.Children.Count != 1)
        {
            errors.Add(new ConfigError("tune", Show(node), "needs one config key with its candidate values, e.g. tune: {lr: [0.01, 0.05, 0.1]}"));
            return null;
        }

        var leaves = Leaves(map, "").ToList();
        if (leaves.Count != 1)
        {
            errors.Add(new ConfigError("tune", Show(node), "needs exactly one config key with its candidate values"));
            return null;
        }

        var (key, value) = leaves[0];
        string label = "tune." + key;
        if (!known.Contains(key) || key == "seed")
        {
            errors.Add(new ConfigError(label, Show(value), key == "seed" ? "the seed cannot be tuned" : "unknown config key (valid: " + string.Join(", ", known) + ")"));
            return null;
        }

        if (value is not YamlSequenceNode list || list.Children.Count == 0)
        {
            errors.Add(new ConfigError(label, Show(value), "needs a non-empty list of candidate values, e.g. [0.01, 0.05, 0.1]"));
            return null;
        }

        for (int i = 0; i < list.Children.Count; i++)
        {
            if (CheckSingle(key, list.Children[i]) is { } why)
            {
                errors.Add(new ConfigError($"{label}[{i}]", Show(list.Children[i]), why));
                return null;
            }
        }

        return new StudyAxis(key, list.Children.ToList());
    }

    private static double ReadReport(YamlNode node, List<ConfigError> errors)
    {
        double target = Study.DefaultTargetAccuracy;
        if (node is not YamlMappingNode map)
        {
            errors.Add(new ConfigError("report", Show(node), "needs a mapping, e.g. report: {target_accuracy: 0.7}"));
            return target;
        }

        foreach (var (keyNode, value) in map.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "?";
            if (key != "target_accuracy")
            {
                errors.Add(new ConfigError("report." + key, Show(value), "unknown key (valid: " + string.Join(", ", ReportKeys) + ")"));
            }
            else if (value is YamlScalarNode { Value: { } text } && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var t) && t > 0 && t <= 1)
            {
                target = t;
            }
            else
            {
                errors.Add(new ConfigError("report.target_accuracy", Show(value), "needs a number in (0, 1], e.g. 0.7"));
            }
        }

        return target;
    }

    private static StudyResilience? ReadResilience(YamlNode node, List<ConfigError> errors)
    {
        if (node is not YamlMappingNode map)
        {
            errors.Add(new ConfigError("resilience", Show(node), "needs a mapping, e.g. resilience: {draws: 20, at: [init, final]}"));
            return null;
        }

        int draws = StudyResilience.DefaultDraws;
        double confidence = StudyResilience.DefaultConfidence;
        var at = StudyResilience.DefaultAt;
        int before = errors.Count;
        foreach (var (keyNode, value) in map.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "?";
            string label = "resilience." + key;
            switch (key)
            {
                case "draws":
                    if (value is YamlScalarNode { Value: { } text } && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int r) && r >= 2 && r <= MaxResilienceDraws)
                    {
                        draws = r;
                    }
                    else
                    {
                        errors.Add(new ConfigError(label, Show(value), $"needs an integer from 2 to {MaxResilienceDraws}: the independent rounds drawn at each point, e.g. 20"));
                    }

                    break;
                case "confidence":
                    if (value is YamlScalarNode { Value: { } c } && double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out var level) && level > 0 && level < 1)
                    {
                        confidence = level;
                    }
                    else
                    {
                        errors.Add(new ConfigError(label, Show(value), "needs a number in (0, 1), e.g. 0.95"));
                    }

                    break;
                case "at":
                    at = ReadPoints(value, label, errors) ?? at;
                    break;
                default:
                    errors.Add(new ConfigError(label, Show(value), "unknown key (valid: " + string.Join(", ", StudyResilience.Keys) + ")"));
                    break;
            }
        }

        return errors.Count > before ? null : new StudyResilience(draws, at, confidence);
    }

    private static IReadOnlyList<string>? ReadPoints(YamlNode value, string label, List<ConfigError> errors)
    {
        const string Valid = "init (the initial parameters) or final (the run's last checkpoint)";
        if (value is not YamlSequenceNode list || list.Children.Count == 0)
        {
            errors.Add(new ConfigError(label, Show(value), $"needs a non-empty list of points, each {Valid}, e.g. [init, final]"));
            return null;
        }

        var points = new List<string>();
        for (int i = 0; i < list.Children.Count; i++)
        {
            var item = list.Children[i];
            if (item is YamlScalarNode { Value: StudyResilience.Init or StudyResilience.Final } point)
            {
                if (points.Contains(point.Value!))
                {
                    errors.Add(new ConfigError($"{label}[{i}]", point.Value!, "repeated: each point once"));
                }
                else
                {
                    points.Add(point.Value!);
                }
            }
            else
            {
                errors.Add(new ConfigError($"{label}[{i}]", Show(item), $"unknown point: use {Valid}"));
            }
        }

        return points;
    }

    private static void CheckOverlaps(List<StudyAxis> grid, List<IReadOnlyList<StudySetting>> cases, StudyAxis? tune, List<ConfigError> errors)
    {
        var gridKeys = grid.Select(a => a.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var key in cases.SelectMany(c => c).Select(s => s.Key).Distinct().Where(gridKeys.Contains))
        {
            errors.Add(new ConfigError("cases: " + key, "", "is also a grid key: a key varies either in the grid or in the cases"));
        }

        if (tune is not null && (gridKeys.Contains(tune.Key) || cases.Any(c => c.Any(s => s.Key == tune.Key))))
        {
            errors.Add(new ConfigError("tune." + tune.Key, "", "is also a grid or case key: the tuned key varies only under tune:"));
        }
    }

    /// <summary>Why <paramref name="value"/> cannot be the one value of <paramref name="key"/>, or null when it can.</summary>
    private static string? CheckSingle(string key, YamlNode value) => value switch
    {
        YamlScalarNode => null,
        YamlSequenceNode list when key == ListKey => list.Children.All(c => c is YamlScalarNode) ? null : "the pre-aggregator list must hold plain specs",
        YamlSequenceNode => "a list where one value is needed (to try several values, put the key under grid:)",
        _ => "needs a value, not a mapping",
    };

    /// <summary>The leaves of a mapping: nested mappings become dotted keys, as in config files.</summary>
    internal static IEnumerable<(string Key, YamlNode Value)> Leaves(YamlMappingNode map, string prefix)
    {
        foreach (var (keyNode, value) in map.Children)
        {
            var key = prefix + ((keyNode as YamlScalarNode)?.Value ?? "?");
            if (value is YamlMappingNode child && child.Children.Count > 0)
            {
                foreach (var leaf in Leaves(child, key + "."))
                {
                    yield return leaf;
                }
            }
            else
            {
                yield return (key, value);
            }
        }
    }

    /// <summary>A value as a person would write it: a scalar's text, <c>[a, b]</c> for a list.</summary>
    public static string Show(YamlNode node) => node switch
    {
        YamlScalarNode s => s.Value ?? "",
        YamlSequenceNode l => "[" + string.Join(", ", l.Children.Select(Show)) + "]",
        YamlMappingNode m => "{" + string.Join(", ", m.Children.Select(p => Show(p.Key) + ": " + Show(p.Value))) + "}",
        _ => node.ToString(),
    };
}
