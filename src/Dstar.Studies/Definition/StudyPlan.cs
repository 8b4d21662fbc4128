using System.Text;
using Dstar.Engine.Configuration;
using YamlDotNet.RepresentationModel;

namespace Dstar.Studies.Definition;

/// <summary>
/// The cells of a study: every combination of the grid (cartesian product) crossed with every case and every tune
/// candidate, each an experiment checked by the config validator, run once per seed. Cell order, names and configs
/// depend only on the study file.
/// </summary>
/// <param name="Study">The study.</param>
/// <param name="VaryingKeys">The keys that vary across cells: grid keys, then case keys, then the tuned key.</param>
/// <param name="Cells">The cells, in expansion order (the grid's last key varies fastest, cases slowest, then tune).</param>
public sealed record StudyPlan(Study Study, IReadOnlyList<string> VaryingKeys, IReadOnlyList<StudyCell> Cells)
{
    /// <summary>The folder, under the study's output directory, that holds one folder per cell.</summary>
    public const string CellsFolder = "cells";

    /// <summary>Every run: each cell once per seed.</summary>
    public IEnumerable<StudyRun> Runs => Cells.SelectMany(c => c.Runs);

    /// <summary>
    /// Expands <paramref name="study"/> into its cells and validates each cell's experiment with
    /// <see cref="ConfigLoader"/>. A problem shared by several cells is reported once, naming the first such cell.
    /// </summary>
    /// <exception cref="StudyException">some cell's experiment is invalid (every distinct problem listed).</exception>
    public static StudyPlan Expand(Study study)
    {
        ArgumentNullException.ThrowIfNull(study);
        var varying = study.Grid.Select(a => a.Key).ToList();
        foreach (var key in study.Cases.SelectMany(c => c).Select(s => s.Key))
        {
            if (!varying.Contains(key))
            {
                varying.Add(key);
            }
        }

        if (study.Tune is not null)
        {
            varying.Add(study.Tune.Key);
        }

        var combinations = new List<List<StudySetting>>();
        var gridPoints = CartesianProduct(study.Grid);
        var cases = study.Cases.Count > 0 ? study.Cases : [Array.Empty<StudySetting>()];
        var tuneValues = study.Tune is null ? new StudySetting?[] { null } : study.Tune.Values.Select(v => (StudySetting?)new StudySetting(study.Tune.Key, v)).ToArray();
        foreach (var tune in tuneValues)
        {
            foreach (var @case in cases)
            {
                foreach (var point in gridPoints)
                {
                    var settings = new List<StudySetting>(@case);
                    settings.AddRange(point);
                    if (tune is not null)
                    {
                        settings.Add(tune);
                    }

                    combinations.Add(settings);
                }
            }
        }

        var errors = new List<ConfigError>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var problems = new Dictionary<string, (ConfigError Error, int Count)>(StringComparer.Ordinal);
        var problemOrder = new List<string>();
        var cells = new List<StudyCell>();
        var byzantineInCases = study.Cases.Any(c => c.Any(s => s.Key == "byzantine"));
        var ruleKeys = new HashSet<string>(["aggregator", "pre"], StringComparer.Ordinal);
        var attackKeys = new HashSet<string>(["attack", "attack_timing"], StringComparer.Ordinal);
        if (byzantineInCases)
        {
            attackKeys.Add("byzantine");
        }

        // A key set in the same group of cases as the rule belongs to the rule (worker_momentum beside a dstar variant);
        // one set with the attack belongs to the attack (workers and k of a clean run of honest workers alone). Else
        // they would split the tables into scenarios of one column.
        var extraRuleKeys = new List<string>();
        foreach (var group in study.CaseGroups ?? [])
        {
            if (group.Any(ruleKeys.Contains))
            {
                extraRuleKeys.AddRange(group.Where(k => !ruleKeys.Contains(k) && !attackKeys.Contains(k) && k != "byzantine" && !extraRuleKeys.Contains(k)));
            }
            else if (group.Any(k => attackKeys.Contains(k) || k == "byzantine"))
            {
                attackKeys.UnionWith(group);
            }
        }

        ruleKeys.UnionWith(extraRuleKeys);

        foreach (var settings in combinations)
        {
            var name = Name(settings, varying);
            int count = seen.TryGetValue(name, out var n) ? n + 1 : 1;
            seen[name] = count;
            if (count > 1)
            {
                name += "-" + count;
            }

            var yaml = Yaml(study.Base.Concat(settings));
            ExperimentConfig config;
            try
            {
                config = ConfigLoader.Load(yaml);
            }
            catch (ConfigException e)
            {
                foreach (var error in e.Errors)
                {
                    var text = error.ToString();
                    if (problems.TryGetValue(text, out var known))
                    {
                        problems[text] = (known.Error, known.Count + 1);
                    }
                    else
                    {
                        problems[text] = (error with { Key = $"cell {name}: {error.Key}" }, 1);
                        problemOrder.Add(text);
                    }
                }

                continue;
            }

            var keys = varying.ToDictionary(k => k, k => Display(k, config), StringComparer.Ordinal);
            cells.Add(new StudyCell(
                name,
                keys,
                config,
                study.Seeds,
                Rule(config),
                Attack(config, byzantineInCases),
                varying.Where(k => !ruleKeys.Contains(k) && !attackKeys.Contains(k) && k != study.Tune?.Key).ToDictionary(k => k, k => keys[k], StringComparer.Ordinal),
                study.Tune is null ? null : keys[study.Tune.Key]));
        }

        foreach (var text in problemOrder)
        {
            var (error, count) = problems[text];
            errors.Add(count > 1 ? error with { Problem = error.Problem + $" (and {count - 1} more cell{(count == 2 ? "" : "s")})" } : error);
        }

        if (errors.Count > 0)
        {
            throw new StudyException(errors);
        }

        // The rule's own keys show in its name where they leave their usual value: "dstar … (worker_momentum=0.9)".
        foreach (var key in extraRuleKeys.Where(k => varying.Contains(k) && cells.Count > 0))
        {
            var usual = cells.GroupBy(c => c.Keys[key]).OrderByDescending(g => g.Count()).First().Key;
            cells = cells.Select(c => c.Keys[key] == usual ? c : c with { Rule = $"{c.Rule} ({key}={c.Keys[key]})" }).ToList();
        }

        return new StudyPlan(study, varying, cells);
    }

    /// <summary>The rule a cell runs: its aggregator, after its pre-aggregators when it has any.</summary>
    public static string Rule(ExperimentConfig config) =>
        config.Pre.Count == 0 ? config.Aggregator : string.Join(" + ", config.Pre) + " + " + config.Aggregator;

    /// <summary>The attack a cell faces: <c>none</c> without Byzantine workers; with f when the cases pair f with attacks.</summary>
    public static string Attack(ExperimentConfig config, bool withCount)
    {
        var attack = config.Byzantine == 0 || config.Attack is null ? "none" : config.Attack;
        return withCount ? $"{attack} (f={config.Byzantine})" : attack;
    }

    /// <summary>The value of <paramref name="key"/> in <paramref name="config"/> as the config file would hold it (<c>none</c> for empty).</summary>
    public static string Display(string key, ExperimentConfig config)
    {
        var value = ConfigKeys.All.First(k => k.Name == key).Write(config);
        return value.List is { } list ? (list.Count == 0 ? "none" : string.Join(" + ", list)) : value.Scalar ?? "none";
    }

    /// <summary>
    /// The folder name of a cell: <c>key-value</c> for each varying key, joined by <c>_</c>, with every character that
    /// is not a letter, digit or dot replaced by <c>-</c> (readable, and safe on any file system).
    /// </summary>
    public static string Name(IEnumerable<StudySetting> settings, IReadOnlyList<string> varying)
    {
        var byKey = settings.GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
        var parts = varying.Where(byKey.ContainsKey).Select(k => Slug(k) + "-" + Slug(StudyLoader.Show(byKey[k]) is { Length: > 0 } v && v != "[]" ? v : "none"));
        var name = string.Join("_", parts);
        return name.Length == 0 ? "base" : name;
    }

    private static string Slug(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (char c in text.ToLowerInvariant())
        {
            bool keep = char.IsAsciiLetterOrDigit(c) || c == '.';
            if (keep)
            {
                builder.Append(c);
            }
            else if (builder.Length > 0 && builder[^1] != '-')
            {
                builder.Append('-');
            }
        }

        return builder.ToString().TrimEnd('-');
    }

    /// <summary>The settings as one flat YAML mapping (dotted keys), later settings replacing earlier ones.</summary>
    internal static string Yaml(IEnumerable<StudySetting> settings)
    {
        var merged = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var setting in settings)
        {
            if (!merged.ContainsKey(setting.Key))
            {
                order.Add(setting.Key);
            }

            merged[setting.Key] = setting.Value;
        }

        var root = new YamlMappingNode();
        foreach (var key in order)
        {
            root.Children.Add(new YamlScalarNode(key), merged[key]);
        }

        var writer = new StringWriter { NewLine = "\n" };
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    private static List<List<StudySetting>> CartesianProduct(IReadOnlyList<StudyAxis> axes)
    {
        var result = new List<List<StudySetting>> { new() };
        foreach (var axis in axes)
        {
            var next = new List<List<StudySetting>>(result.Count * axis.Values.Count);
            foreach (var prefix in result)
            {
                foreach (var value in axis.Values)
                {
                    next.Add([.. prefix, new StudySetting(axis.Key, value)]);
                }
            }

            result = next;
        }

        return result;
    }
}

/// <summary>One point of a study: an experiment run once per seed.</summary>
/// <param name="Name">The folder name (<see cref="StudyPlan.Name"/>).</param>
/// <param name="Keys">The value of each varying key in this cell.</param>
/// <param name="Config">The experiment, validated (its seed is replaced per run).</param>
/// <param name="Seeds">The seeds.</param>
/// <param name="Rule">The aggregation rule with its pre-aggregators (<see cref="StudyPlan.Rule"/>).</param>
/// <param name="Attack">The attack (<see cref="StudyPlan.Attack"/>).</param>
/// <param name="Scenario">The varying keys that are neither rule, attack nor tuned: they split the report's tables.</param>
/// <param name="TuneValue">The tuned key's value in this cell, or null without tuning.</param>
public sealed record StudyCell(
    string Name,
    IReadOnlyDictionary<string, string> Keys,
    ExperimentConfig Config,
    IReadOnlyList<int> Seeds,
    string Rule,
    string Attack,
    IReadOnlyDictionary<string, string> Scenario,
    string? TuneValue)
{
    /// <summary>The runs, one per seed, in seed order as written.</summary>
    public IEnumerable<StudyRun> Runs => Seeds.Select(s => new StudyRun(this, s));
}

/// <summary>One cell with one seed: one ordinary run directory, <c>cells/CELL/seed-S</c>.</summary>
public sealed record StudyRun(StudyCell Cell, int Seed)
{
    /// <summary>The run directory relative to the study's output directory.</summary>
    public string RelativeDirectory => Path.Combine(StudyPlan.CellsFolder, Cell.Name, "seed-" + Seed.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The run's experiment: the cell's, with this seed.</summary>
    public ExperimentConfig Config => Cell.Config with { Seed = Seed };

    /// <summary>The run's name in its files: cell name and seed.</summary>
    public string Name => Cell.Name + "/seed-" + Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
