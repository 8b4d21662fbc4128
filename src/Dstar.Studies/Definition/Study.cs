using YamlDotNet.RepresentationModel;

namespace Dstar.Studies.Definition;

/// <summary>
/// A study file as read (docs/studies.md): a base experiment, the keys that vary (a grid, whose cartesian product is
/// taken, times explicit cases), the seeds each cell runs with, an optional tuned key and the report's settings.
/// Values are kept as the YAML nodes written, so that each cell's experiment is read by the one config loader.
/// </summary>
/// <param name="Name">The study's name (the file name without extension unless <c>name:</c> says otherwise).</param>
/// <param name="Base">Config keys shared by every cell (<c>base_config</c> first, then <c>base</c>), dotted, in order.</param>
/// <param name="Grid">Each varying key with its values, in file order.</param>
/// <param name="Cases">Explicit combinations of keys, each crossed with the grid; empty for none.</param>
/// <param name="Seeds">The seeds every cell runs with.</param>
/// <param name="Tune">The tuned key, or null.</param>
/// <param name="TargetAccuracy">The accuracy whose first crossing the report times.</param>
/// <param name="CaseGroups">The keys of each group of cases (one group for a plain list of cases): a key set in the same
/// group as <c>aggregator</c> belongs to the rule, one set with <c>attack</c> to the attack. Null: none known.</param>
/// <param name="Resilience">What each run also estimates of its rule's resilience (<c>resilience:</c>), or null.</param>
public sealed record Study(
    string Name,
    IReadOnlyList<StudySetting> Base,
    IReadOnlyList<StudyAxis> Grid,
    IReadOnlyList<IReadOnlyList<StudySetting>> Cases,
    IReadOnlyList<int> Seeds,
    StudyAxis? Tune,
    double TargetAccuracy,
    IReadOnlyList<IReadOnlyList<string>>? CaseGroups = null,
    StudyResilience? Resilience = null)
{
    /// <summary>The default of <c>report.target_accuracy</c>.</summary>
    public const double DefaultTargetAccuracy = 0.7;
}

/// <summary>One config key with one value (a scalar, or a list for <c>pre</c>).</summary>
public sealed record StudySetting(string Key, YamlNode Value);

/// <summary>One config key with the values it takes.</summary>
public sealed record StudyAxis(string Key, IReadOnlyList<YamlNode> Values);
