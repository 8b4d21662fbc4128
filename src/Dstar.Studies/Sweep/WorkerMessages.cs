using System.Text.Json;
using System.Text.Json.Serialization;
using Dstar.Studies.Definition;

namespace Dstar.Studies.Sweep;

/// <summary>
/// What the sweep sends a worker process, one JSON line on its standard input: run <see cref="Config"/> (the resolved
/// config.yaml text) into <see cref="Directory"/> unless that run is already finished, then estimate
/// <see cref="Resilience"/> when the study asks for it.
/// </summary>
/// <param name="Directory">The run directory (absolute).</param>
/// <param name="Name">The run name.</param>
/// <param name="Config">The resolved experiment as YAML.</param>
/// <param name="Resilience">The study's <c>resilience:</c> block, or null.</param>
/// <param name="Cores">The cores this run may use (the machine's divided by the sweep's worker processes), which
/// <c>simulation.parallel: auto</c> spreads its gradients over; null for the machine's.</param>
public sealed record WorkerAssignment(
    [property: JsonPropertyName("directory")] string Directory,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("config")] string Config,
    [property: JsonPropertyName("resilience")] StudyResilience? Resilience = null,
    [property: JsonPropertyName("cores")] int? Cores = null);

/// <summary>
/// What a worker process reports, one JSON line on its standard output: <c>ready</c> once started, then
/// <c>finished</c> or <c>failed</c> for each assignment.
/// </summary>
/// <param name="Event"><c>ready</c>, <c>finished</c> or <c>failed</c>.</param>
/// <param name="Directory">The run directory (null for <c>ready</c>).</param>
/// <param name="Seconds">ready: seconds from process start to ready; otherwise the run's wall seconds.</param>
/// <param name="Resumed">Whether the run continued from a checkpoint.</param>
/// <param name="Error">failed: why, one line.</param>
public sealed record WorkerReport(
    [property: JsonPropertyName("event")] string Event,
    [property: JsonPropertyName("directory")] string? Directory = null,
    [property: JsonPropertyName("seconds")] double Seconds = 0,
    [property: JsonPropertyName("resumed")] bool Resumed = false,
    [property: JsonPropertyName("error")] string? Error = null)
{
    /// <summary>The worker is ready for assignments.</summary>
    public const string Ready = "ready";

    /// <summary>The run finished.</summary>
    public const string Finished = "finished";

    /// <summary>The run failed.</summary>
    public const string Failed = "failed";
}

/// <summary>The JSON-lines encoding of <see cref="WorkerAssignment"/> and <see cref="WorkerReport"/>.</summary>
public static class WorkerMessages
{
    private static readonly JsonSerializerOptions Options = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>One line of JSON (no line breaks inside: strings escape them).</summary>
    public static string Encode<T>(T message) => JsonSerializer.Serialize(message, Options);

    /// <summary>Reads one line, or null when it is not that message.</summary>
    public static T? Decode<T>(string line)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(line, Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
