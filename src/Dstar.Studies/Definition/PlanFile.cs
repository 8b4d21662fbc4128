using System.Text.Json;
using Dstar.Engine.Recording;

namespace Dstar.Studies.Definition;

/// <summary>
/// plan.json in a study's output directory: the study's name, its target accuracy, the keys that vary, each cell's
/// name, keys, rule, attack, scenario, tuned value and seeds, and the resilience estimates asked of each run.
/// <c>dstar report</c> reads it, so that a report needs only the output directory.
/// </summary>
public static class PlanFile
{
    /// <summary>plan.json.</summary>
    public const string FileName = "plan.json";

    /// <summary>Writes plan.json for <paramref name="plan"/> into <paramref name="directory"/>.</summary>
    public static void Write(StudyPlan plan, string directory)
    {
        var index = Index(plan);
        var path = Path.Combine(directory, FileName);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(index, Options) + "\n");
    }

    /// <summary>What plan.json holds for <paramref name="plan"/> (the live view shows a sweep's grid from it before plan.json is written).</summary>
    public static StudyIndex Index(StudyPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return new StudyIndex(
            plan.Study.Name,
            plan.Study.TargetAccuracy,
            plan.VaryingKeys,
            plan.Study.Tune?.Key,
            plan.Cells.Select(c => new IndexedCell(c.Name, c.Keys, c.Rule, c.Attack, c.Scenario, c.TuneValue, c.Seeds)).ToArray(),
            plan.Study.Resilience);
    }

    /// <summary>Reads plan.json from a study's output directory.</summary>
    /// <exception cref="InvalidDataException">it is missing or not a plan (the message says which).</exception>
    public static StudyIndex Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"{path} is missing: is '{directory}' the --out directory of a dstar sweep?");
        }

        try
        {
            return JsonSerializer.Deserialize<StudyIndex>(File.ReadAllText(path), Options) is { Cells: not null, Name: not null } index
                ? index
                : throw new InvalidDataException($"{path}: not a study plan");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a study plan ({e.Message})");
        }
    }

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };
}

/// <summary>What plan.json holds: the study and its cells, as the report needs them.</summary>
/// <param name="Name">The study's name.</param>
/// <param name="TargetAccuracy">The accuracy the report times the first crossing of.</param>
/// <param name="VaryingKeys">The keys that vary across cells.</param>
/// <param name="TuneKey">The tuned key, or null.</param>
/// <param name="Cells">Every cell.</param>
/// <param name="Resilience">The study's <c>resilience:</c> block, or null (plan.json of older sweeps has none).</param>
public sealed record StudyIndex(string Name, double TargetAccuracy, IReadOnlyList<string> VaryingKeys, string? TuneKey, IReadOnlyList<IndexedCell> Cells, StudyResilience? Resilience = null);

/// <summary>A cell as plan.json holds it (see <see cref="StudyCell"/>).</summary>
/// <param name="Name">The folder name.</param>
/// <param name="Keys">The varying keys' values.</param>
/// <param name="Rule">The rule.</param>
/// <param name="Attack">The attack.</param>
/// <param name="Scenario">The varying keys that split the tables.</param>
/// <param name="TuneValue">The tuned value, or null.</param>
/// <param name="Seeds">The seeds.</param>
public sealed record IndexedCell(
    string Name,
    IReadOnlyDictionary<string, string> Keys,
    string Rule,
    string Attack,
    IReadOnlyDictionary<string, string> Scenario,
    string? TuneValue,
    IReadOnlyList<int> Seeds)
{
    /// <summary>A run's directory relative to the study's output directory.</summary>
    public string RunDirectory(int seed) => Path.Combine(StudyPlan.CellsFolder, Name, "seed-" + seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
