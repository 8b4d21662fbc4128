using System.Text.Json;
using Dstar.Engine.Guarantees;
using Dstar.Engine.Recording;
using Dstar.Studies.Sweep;

namespace Dstar.Studies.Report;

/// <summary>One test-set evaluation of a run: after <see cref="Round"/> + 1 rounds, at <see cref="VirtualTime"/>.</summary>
public readonly record struct EvaluationPoint(long Round, double VirtualTime, double Accuracy);

/// <summary>
/// What a finished run's files hold that the report uses: summary.json's accuracies, filter counts and times, the
/// accuracy curve from metrics.jsonl, and resilience.json's estimates. Nothing is recomputed except the first crossing of the target accuracy.
/// </summary>
/// <param name="Seed">The run's seed.</param>
/// <param name="FinalAccuracy">summary.json <c>final_accuracy</c>.</param>
/// <param name="BestAccuracy">summary.json <c>best_accuracy</c>.</param>
/// <param name="FilterPrecision">summary.json <c>filter_precision</c>.</param>
/// <param name="FilterRecall">summary.json <c>filter_recall</c>.</param>
/// <param name="ByzantineKeptFraction">summary.json <c>byzantine_kept_fraction</c>.</param>
/// <param name="VirtualSeconds">summary.json <c>virtual_seconds</c>.</param>
/// <param name="Rounds">summary.json <c>rounds</c>.</param>
/// <param name="StoppedAtRound">summary.json <c>stopped_at_round</c> (a run that could not go on).</param>
/// <param name="Curve">Every row of metrics.jsonl with an accuracy, in round order.</param>
/// <param name="MeanK">The mean over rounds of metrics.jsonl's <c>k</c> (the k each round collected for; with
/// <c>k: auto</c>, the one chosen), or null when the rows do not record it.</param>
/// <param name="Resilience">resilience.json's entries (a study with <c>resilience:</c>), or null when the run has none.</param>
/// <param name="ResilienceProblem">Why a resilience.json that is there could not be read (naming the file), or null.</param>
public sealed record RunResult(
    int Seed,
    double? FinalAccuracy,
    double? BestAccuracy,
    double? FilterPrecision,
    double? FilterRecall,
    double? ByzantineKeptFraction,
    double VirtualSeconds,
    long Rounds,
    long? StoppedAtRound,
    IReadOnlyList<EvaluationPoint> Curve,
    double? MeanK = null,
    IReadOnlyList<ResilienceResult>? Resilience = null,
    string? ResilienceProblem = null)
{
    /// <summary>
    /// The first evaluation whose accuracy is at least <paramref name="target"/>: the rounds completed then
    /// (round + 1) and the virtual time; null when the run never reached it.
    /// </summary>
    public (long Rounds, double Seconds)? TimeToTarget(double target)
    {
        foreach (var point in Curve)
        {
            if (point.Accuracy >= target)
            {
                return (point.Round + 1, point.VirtualTime);
            }
        }

        return null;
    }

    /// <summary>Reads a finished run directory, or null when it has no summary.json (the run did not finish).</summary>
    /// <exception cref="InvalidDataException">summary.json is there but damaged or unreadable, or metrics.jsonl is damaged (the message names the file).</exception>
    public static RunResult? Read(string directory, int seed)
    {
        using var summary = RunState.ReadSummary(directory, out var problem);
        if (summary is null)
        {
            return problem is null ? null : throw new InvalidDataException(problem);
        }

        var root = summary.RootElement;
        double? Number(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        var rows = MetricsFiles.Read(directory, long.MaxValue);
        var curve = rows
            .Where(r => r.Accuracy is not null)
            .Select(r => new EvaluationPoint(r.Round, r.VirtualTime, r.Accuracy!.Value))
            .ToArray();
        return new RunResult(
            seed,
            Number("final_accuracy"),
            Number("best_accuracy"),
            Number("filter_precision"),
            Number("filter_recall"),
            Number("byzantine_kept_fraction"),
            Number("virtual_seconds") ?? 0,
            (long)(Number("rounds") ?? 0),
            Number("stopped_at_round") is { } stopped ? (long)stopped : null,
            curve,
            rows.Count > 0 && rows.All(r => r.K > 0) ? rows.Average(r => r.K) : null,
            CellResilience.Read(directory, out var resilienceProblem),
            resilienceProblem);
    }
}
