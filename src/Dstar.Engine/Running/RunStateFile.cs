using System.Text.Json;
using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;

namespace Dstar.Engine.Running;

/// <summary>What a run directory holds, as state.json records it.</summary>
/// <param name="State">running (or killed), finished, interrupted, or failed.</param>
/// <param name="Round">Rounds completed when the state was written.</param>
/// <param name="StopReason">Why a finished run stopped early, or why it failed; null otherwise.</param>
/// <param name="Config">The run's config, key → value as written to config.yaml (what a resume must agree with).</param>
public sealed record RunState(string State, long Round, string? StopReason, IReadOnlyDictionary<string, string> Config);

/// <summary>Reads and writes state.json, which the <see cref="RunDriver"/> keeps current.</summary>
public static class RunStateFile
{
    /// <summary>state.json.</summary>
    public const string FileName = "state.json";

    /// <summary>The run is in progress, or its process was killed.</summary>
    public const string Running = "running";

    /// <summary>The run reached its last round or stopped early (summary.json says which).</summary>
    public const string Finished = "finished";

    /// <summary>The run was cancelled and checkpointed; <c>--resume</c> continues it.</summary>
    public const string Interrupted = "interrupted";

    /// <summary>An error ended the run.</summary>
    public const string Failed = "failed";

    /// <summary>Every config key and its value, as config.yaml writes it.</summary>
    public static IReadOnlyDictionary<string, string> Describe(ExperimentConfig config) =>
        ConfigKeys.All.ToDictionary(k => k.Name, k => k.Write(config).ToString(), StringComparer.Ordinal);

    /// <summary>Writes <paramref name="state"/> into <paramref name="directory"/> (temporary file, then rename).</summary>
    public static void Write(string directory, RunState state)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            w.WriteStartObject();
            w.WriteString("state", state.State);
            w.WriteNumber("round", state.Round);
            w.WriteString("stop_reason", state.StopReason);
            w.WriteStartObject("config");
            foreach (var (key, value) in state.Config)
            {
                w.WriteString(key, value);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        var path = Path.Combine(directory, FileName);
        AtomicFile.WriteAllBytes(path, [.. buffer.ToArray(), (byte)'\n']);
    }

    /// <summary>The state in <paramref name="directory"/>, or null when there is no readable state.json.</summary>
    public static RunState? TryRead(string directory)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, FileName)));
            var root = document.RootElement;
            var config = root.GetProperty("config").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
            return new RunState(root.GetProperty("state").GetString() ?? "", root.GetProperty("round").GetInt64(),
                root.TryGetProperty("stop_reason", out var reason) ? reason.GetString() : null, config);
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
