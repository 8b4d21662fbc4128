using System.Text.Json;
using Dstar.Engine.Checkpoints;
using Dstar.Engine.Recording;

namespace Dstar.Studies.Sweep;

/// <summary>Where a run directory stands: finished (its summary.json is whole), resumable (it has a checkpoint), or to start.</summary>
public enum RunStatus
{
    /// <summary>Nothing usable yet: run from the start.</summary>
    Fresh,

    /// <summary>A checkpoint is there: continue from it.</summary>
    Resumable,

    /// <summary>summary.json is there and whole: skip.</summary>
    Finished,
}

/// <summary>Reads a run directory's state, and records a failed run's error beside its files.</summary>
public static class RunState
{
    /// <summary>Written into a run directory whose run failed; removed when the run is tried again.</summary>
    public const string ErrorFileName = "error.txt";

    /// <summary>The state of <paramref name="directory"/>.</summary>
    public static RunStatus Check(string directory) => Check(directory, out _);

    /// <summary>
    /// The state of <paramref name="directory"/>; <paramref name="damaged"/> says, naming the file, why a summary.json
    /// that is there does not make the run finished (null when there is none, or it is whole).
    /// </summary>
    public static RunStatus Check(string directory, out string? damaged)
    {
        using (var summary = ReadSummary(directory, out damaged))
        {
            if (summary is not null)
            {
                return RunStatus.Finished;
            }
        }

        return File.Exists(Path.Combine(directory, CheckpointFile.FileName)) ? RunStatus.Resumable : RunStatus.Fresh;
    }

    /// <summary>
    /// Whether the config.yaml already in <paramref name="directory"/> differs from <paramref name="configYaml"/> (a
    /// study changed under an existing output directory); false when there is none.
    /// </summary>
    public static bool HoldsOtherConfig(string directory, string configYaml)
    {
        var path = Path.Combine(directory, "config.yaml");
        return File.Exists(path) && File.ReadAllText(path) != configYaml;
    }

    /// <summary>summary.json parsed, or null when it is missing or not whole (a run killed while writing it).</summary>
    public static JsonDocument? ReadSummary(string directory) => ReadSummary(directory, out _);

    /// <summary>
    /// summary.json parsed, or null when it is missing or not whole; <paramref name="problem"/> then says, naming the
    /// file, why a summary.json that is there could not be used (null when there is none).
    /// </summary>
    public static JsonDocument? ReadSummary(string directory, out string? problem)
    {
        problem = null;
        var path = Path.Combine(directory, SummaryFile.FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var document = JsonDocument.Parse(File.ReadAllText(path));
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("rounds", out _))
            {
                return document;
            }

            document.Dispose();
            problem = $"{path}: damaged: not a run summary (no \"rounds\")";
        }
        catch (JsonException e)
        {
            // Half-written (a run killed while writing it) or edited: the run is not finished.
            problem = $"{path}: damaged: not valid JSON ({e.Message})";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"{path}: cannot be read ({e.Message})";
        }

        return null;
    }

    /// <summary>Records why the run in <paramref name="directory"/> failed (error.txt).</summary>
    public static void RecordFailure(string directory, string error)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, ErrorFileName), error.TrimEnd() + "\n");
    }

    /// <summary>The recorded error of a failed run, or null.</summary>
    public static string? ReadFailure(string directory)
    {
        var path = Path.Combine(directory, ErrorFileName);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    /// <summary>Forgets a previous failure before the run is tried again.</summary>
    public static void ClearFailure(string directory)
    {
        if (Directory.Exists(directory))
        {
            File.Delete(Path.Combine(directory, ErrorFileName));
        }
    }
}
