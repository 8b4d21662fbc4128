using System.Text.Json.Serialization;

namespace Dstar.Studies.Definition;

/// <summary>
/// A study's <c>resilience:</c> block (docs/studies.md): after each run, estimate the (α, f)-Byzantine resilience of
/// its rule under its attack at the run's initial parameters and/or its final checkpoint, with
/// <see cref="Draws"/> independent rounds each, exactly as <c>dstar resilience --at init|CHECKPOINT --rounds R</c> does
/// (docs/guarantees.md), and write the results to the run directory's resilience.json.
/// </summary>
/// <param name="Draws">R: independent rounds drawn at each point (≥ 2).</param>
/// <param name="At">The points, each <see cref="Init"/> or <see cref="Final"/>, in the order written.</param>
/// <param name="Confidence">The two-sided level of every interval, in (0, 1).</param>
public sealed record StudyResilience(
    [property: JsonPropertyName("draws")] int Draws,
    [property: JsonPropertyName("at")] IReadOnlyList<string> At,
    [property: JsonPropertyName("confidence")] double Confidence)
{
    /// <summary>The point x₀: the model's seeded initial parameters.</summary>
    public const string Init = "init";

    /// <summary>The point x_T: the parameters of the run's last checkpoint (its end).</summary>
    public const string Final = "final";

    /// <summary>The keys the block may hold.</summary>
    public static IReadOnlyList<string> Keys { get; } = ["draws", "at", "confidence"];

    /// <summary>The default of <c>draws</c>.</summary>
    public const int DefaultDraws = 20;

    /// <summary>The default of <c>confidence</c>.</summary>
    public const double DefaultConfidence = 0.95;

    /// <summary>The default of <c>at</c>.</summary>
    public static IReadOnlyList<string> DefaultAt { get; } = [Final];

    /// <summary>The file each run directory gets.</summary>
    public const string FileName = "resilience.json";
}
