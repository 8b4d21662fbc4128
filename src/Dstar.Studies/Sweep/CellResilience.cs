using Dstar.Engine.Checkpoints;
using Dstar.Engine.Configuration;
using Dstar.Engine.Guarantees;
using Dstar.Studies.Definition;

namespace Dstar.Studies.Sweep;

/// <summary>
/// A finished run's resilience estimates (a study's <c>resilience:</c> block): its rule under its attack at the run's
/// initial parameters and/or its last checkpoint, R draws each, by the code of <c>dstar resilience</c>
/// (<see cref="ResilienceSession"/>, <see cref="ResilienceJson"/>), written to the run directory's resilience.json.
/// </summary>
public static class CellResilience
{
    /// <summary>
    /// Estimates every point of <paramref name="settings"/> for the run of <paramref name="config"/> in
    /// <paramref name="directory"/> and writes resilience.json (whole or not at all). A cell that cannot be estimated
    /// (the rule refuses n and f, a draw is not finite, x is a stationary point) gets an entry with its failure.
    /// </summary>
    /// <exception cref="CheckpointException">"final" is asked and the run directory holds no checkpoint of this run.</exception>
    /// <exception cref="ConfigException">the config is invalid.</exception>
    public static async Task<IReadOnlyList<ResilienceResult>> EstimateAsync(ExperimentConfig config, string directory, StudyResilience settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(settings);
        using var session = new ResilienceSession(config, new ResilienceOptions { Confidence = settings.Confidence, Seed = config.Seed });
        var results = new List<ResilienceResult>();
        foreach (var at in settings.At)
        {
            // The same points as dstar resilience --at init | CHECKPOINT, named by what they are rather than by path.
            var point = at == StudyResilience.Init
                ? session.Initial
                : session.Load(Path.Combine(directory, CheckpointFile.FileName)) with { Name = StudyResilience.Final };
            results.Add(await session.EstimateAsync(config, point, settings.Draws, cancellationToken).ConfigureAwait(false));
        }

        var path = Path.Combine(directory, StudyResilience.FileName);
        ResilienceJson.Write(path + ".tmp", results);
        File.Move(path + ".tmp", path, overwrite: true);
        return results;
    }

    /// <summary>The estimates of the run in <paramref name="directory"/>, or null when its resilience.json is missing or not whole.</summary>
    public static IReadOnlyList<ResilienceResult>? Read(string directory) => Read(directory, out _);

    /// <summary>
    /// The estimates of the run in <paramref name="directory"/>, or null when its resilience.json is missing or not
    /// whole; <paramref name="problem"/> then says, naming the file, why one that is there could not be used (null when
    /// there is none).
    /// </summary>
    public static IReadOnlyList<ResilienceResult>? Read(string directory, out string? problem)
    {
        problem = null;
        var path = Path.Combine(directory, StudyResilience.FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return ResilienceJson.Read(path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            problem = $"{path}: damaged: {e.Message.ReplaceLineEndings(" ").Trim()}";
            return null;
        }
    }

    /// <summary>
    /// Whether <paramref name="directory"/>'s resilience.json answers <paramref name="settings"/>: one entry per point,
    /// in order, each estimated with its draws and confidence (an entry that failed counts as answered).
    /// </summary>
    public static bool IsCurrent(string directory, StudyResilience settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var results = Read(directory);
        return results is not null
            && results.Select(r => r.Point).SequenceEqual(settings.At)
            && results.All(r => r.Report is null || (r.Report.Draws == settings.Draws && r.Report.Confidence == settings.Confidence));
    }
}
