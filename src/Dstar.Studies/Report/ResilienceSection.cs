using System.Globalization;
using System.Text.Json;
using Dstar.Engine.Guarantees;
using Dstar.Studies.Definition;

namespace Dstar.Studies.Report;

/// <summary>One run's estimate at one point: the cell, the seed, the point, and resilience.json's entry (null when the run has none).</summary>
/// <param name="Cell">The cell.</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="Point"><c>init</c> or <c>final</c>.</param>
/// <param name="Result">The run's resilience.json entry for the point, or null when it has none.</param>
/// <param name="Problem">Why the run's resilience.json could not be read (it is there but damaged), or null.</param>
public sealed record ResilienceRow(CellResult Cell, int Seed, string Point, ResilienceResult? Result, string? Problem = null);

/// <summary>
/// The report's resilience part (a study with <c>resilience:</c>, docs/studies.md): per scenario and point, a
/// rule × attack table of each finished run's estimate (⟨E[G], g⟩/‖g‖², implied α or "fails", the ball condition's α,
/// the bias, the variance ratio and the moment ratios, with their intervals) and a heatmap of the implied α; and
/// report.json's <c>resilience</c> object, which copies each run's resilience.json entries unchanged. Nothing is
/// recomputed from the runs: every number is one the runs' files hold.
/// </summary>
public static class ResilienceSection
{
    /// <summary>Every selected cell's finished runs × the study's points, in plan, seed and point order; empty without <c>resilience:</c>.</summary>
    public static IReadOnlyList<ResilienceRow> Rows(StudyResults results)
    {
        if (results.Index.Resilience is not { } settings)
        {
            return [];
        }

        return results.Selected
            .SelectMany(cell => cell.Runs.SelectMany(run => settings.At.Select(point =>
                new ResilienceRow(cell, run.Seed, point, run.Resilience?.FirstOrDefault(r => r.Point == point), run.ResilienceProblem))))
            .ToArray();
    }

    /// <summary>The rows grouped by scenario and point (one table and one heatmap each).</summary>
    public static IReadOnlyList<(RuleAttackTable Scenario, string Point, IReadOnlyList<ResilienceRow> Rows)> Groups(StudyResults results)
    {
        var rows = Rows(results);
        var groups = new List<(RuleAttackTable, string, IReadOnlyList<ResilienceRow>)>();
        foreach (var table in results.Tables)
        {
            var cells = table.Rows.SelectMany(r => r.Cells).Where(c => c is not null).ToHashSet();
            foreach (var point in results.Index.Resilience?.At ?? [])
            {
                var slice = rows.Where(r => r.Point == point && cells.Contains(r.Cell)).ToArray();
                if (slice.Length > 0)
                {
                    groups.Add((table, point, slice));
                }
            }
        }

        return groups;
    }

    /// <summary>
    /// report.json's <c>resilience</c>: null without <c>resilience:</c>; else the settings and one row per run and
    /// point whose <c>estimate</c> is the run's resilience.json entry, field for field (null when it has none).
    /// </summary>
    public static void Json(Utf8JsonWriter w, StudyResults results)
    {
        if (results.Index.Resilience is not { } settings)
        {
            w.WriteNull("resilience");
            return;
        }

        w.WriteStartObject("resilience");
        w.WriteNumber("draws", settings.Draws);
        w.WriteStartArray("at");
        foreach (var point in settings.At)
        {
            w.WriteStringValue(point);
        }

        w.WriteEndArray();
        w.WriteNumber("confidence", settings.Confidence);
        w.WriteStartArray("rows");
        foreach (var row in Rows(results))
        {
            w.WriteStartObject();
            w.WriteString("cell", row.Cell.Cell.Name);
            w.WriteNumber("seed", row.Seed);
            w.WriteString("rule", row.Cell.Cell.Rule);
            w.WriteString("attack", row.Cell.Cell.Attack);
            w.WriteStartObject("scenario");
            foreach (var (key, value) in row.Cell.Cell.Scenario)
            {
                w.WriteString(key, value);
            }

            w.WriteEndObject();
            w.WriteString("point", row.Point);
            if (row.Result is { } result)
            {
                w.WritePropertyName("estimate");
                ResilienceJson.Write(w, result);
            }
            else
            {
                w.WriteNull("estimate");
            }

            if (row.Problem is { } problem)
            {
                w.WriteString("problem", problem);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The heading of one group's table.</summary>
    public static string Heading(RuleAttackTable scenario, string point, StudyResilience settings) =>
        string.Create(CultureInfo.InvariantCulture,
            $"Resilience at {(point == StudyResilience.Init ? "initialisation (x₀)" : "the final checkpoint (x_T)")}: {scenario.Title} (R = {settings.Draws} draws, {settings.Confidence:P0} intervals)");

    /// <summary>One paragraph: what the resilience tables show.</summary>
    public static string Describe(StudyResilience settings) =>
        string.Create(CultureInfo.InvariantCulture,
            $"Each run's rule under its attack was measured at fixed parameters over R = {settings.Draws} independent rounds, as dstar resilience does (docs/guarantees.md), and the numbers below are its resilience.json. ⟨E[G], g⟩/‖g‖² is 1 for an unbiased rule; the angle condition of (α, f)-resilience holds when its interval's lower end is > 0, and α is arcsin(1 − ratio) (≤: arcsin(1 − lower end)); the ball α is arcsin of the debiased bias's upper end. Moment ratios are E‖G‖^r over one honest worker's E‖ĝ‖^r. The heatmap shows α's upper end, the worst over seeds (\"fails\" when any seed fails).");

    /// <summary>The table's header.</summary>
    public static IReadOnlyList<string> Header { get; } =
        ["rule", "attack", "seed", "⟨E[G], g⟩ / ‖g‖²", "implied α", "ball α", "bias ‖E[G] − g‖ / ‖g‖", "variance / mean's", "E‖G‖² ratio", "E‖G‖³ ratio", "E‖G‖⁴ ratio"];

    /// <summary>The table's rows: one per run, intervals in brackets; a failed estimate says why; a missing one says so.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Cells(IReadOnlyList<ResilienceRow> rows) =>
        rows.Select(row =>
        {
            var lead = new[] { row.Cell.Cell.Rule, row.Cell.Cell.Attack, row.Seed.ToString(CultureInfo.InvariantCulture) };
            var blanks = Enumerable.Repeat("", Header.Count - lead.Length - 1);
            if (row.Result is null)
            {
                return (IReadOnlyList<string>)[.. lead, row.Problem is { } problem ? $"not read ({problem})" : "not estimated (no resilience.json)", .. blanks];
            }

            if (row.Result.Report is not { } r)
            {
                return (IReadOnlyList<string>)[.. lead, "n/a: " + row.Result.Failure, .. blanks];
            }

            return (IReadOnlyList<string>)[
                .. lead,
                WithInterval(r.Ratio, "F3"),
                r.Holds ? $"{Format(r.AlphaDegrees, "F1")}° (≤ {Format(r.AlphaUpperDegrees, "F1")}°)" : "fails",
                r.BallAlphaDegrees is { } ball ? $"≤ {Format(ball, "F1")}°" : "fails",
                WithInterval(r.DebiasedBias, "F3"),
                r.VarianceRatio is { } v ? WithInterval(v, "F3") : "–",
                .. r.Moments.Select(m => WithInterval(new Interval(m.Ratio, m.Aggregate.Low / m.Honest, m.Aggregate.High / m.Honest), "F3")),
            ];
        }).ToArray();

    /// <summary>
    /// Draws one heatmap per group: rule × attack, the implied α's upper end (the worst over the seeds; "fails" when
    /// any seed's angle condition fails, "n/a" when no seed has an estimate). Returns each figure's title and path.
    /// </summary>
    public static IReadOnlyList<(string Title, string Path)> Heatmaps(StudyResults results, string folder)
    {
        var images = new List<(string, string)>();
        int figure = 0;
        foreach (var (scenario, point, rows) in Groups(results))
        {
            var rules = rows.Select(r => r.Cell.Cell.Rule).Distinct().ToArray();
            var attacks = rows.Select(r => r.Cell.Cell.Attack).Distinct().ToArray();
            var values = new double[rules.Length, attacks.Length];
            var labels = new string[rules.Length, attacks.Length];
            for (int i = 0; i < rules.Length; i++)
            {
                for (int j = 0; j < attacks.Length; j++)
                {
                    var reports = rows.Where(r => r.Cell.Cell.Rule == rules[i] && r.Cell.Cell.Attack == attacks[j] && r.Result?.Report is not null)
                        .Select(r => r.Result!.Report!).ToArray();
                    (values[i, j], labels[i, j]) = reports switch
                    {
                        [] => (double.NaN, "n/a"),
                        _ when reports.Any(r => !r.Holds) => (90, "fails"),
                        _ => Degrees(reports.Max(r => r.AlphaUpperDegrees!.Value)),
                    };
                }
            }

            figure++;
            var title = $"Implied α, upper end, worst seed: {scenario.Title}; at {point}";
            var path = Path.Combine(folder, $"resilience-{figure:D3}.png");
            images.Add((title, ResiliencePlots.Heatmap(path, rules, attacks, values, labels, title, "implied α (degrees)")));
        }

        return images;
    }

    private static (double, string) Degrees(double alpha) => (alpha, string.Create(CultureInfo.InvariantCulture, $"{alpha:F0}°"));

    private static string WithInterval(Interval interval, string format) => $"{Format(interval.Estimate, format)} [{Format(interval.Low, format)}, {Format(interval.High, format)}]";

    private static string Format(double? value, string format) =>
        value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "–";
}
