using System.Globalization;
using System.Text;
using System.Text.Json;
using Dstar.Engine.Recording;

namespace Dstar.Studies.Report;

/// <summary>
/// The report's text files: report.json (schema in docs/studies.md), cells.csv (one row per cell), tables.csv (the
/// rule × attack tables, long form) and report.md (the tables with mean ± std, for reading).
/// </summary>
public static class ReportFiles
{
    /// <summary>report.json.</summary>
    public const string JsonName = "report.json";

    /// <summary>cells.csv.</summary>
    public const string CellsCsvName = "cells.csv";

    /// <summary>tables.csv.</summary>
    public const string TablesCsvName = "tables.csv";

    /// <summary>report.md.</summary>
    public const string MarkdownName = "report.md";

    /// <summary>The estimates of each cell, in the order of report.json's <c>*_mean</c>/<c>*_std</c> fields and cells.csv's columns.</summary>
    public static IReadOnlyList<(string Name, Func<CellResult, Estimate> Get)> Quantities { get; } =
    [
        ("final_accuracy", c => c.FinalAccuracy),
        ("best_accuracy", c => c.BestAccuracy),
        ("time_to_target_seconds", c => c.TimeToTargetSeconds),
        ("time_to_target_rounds", c => c.TimeToTargetRounds),
        ("filter_precision", c => c.FilterPrecision),
        ("filter_recall", c => c.FilterRecall),
        ("byzantine_kept_fraction", c => c.ByzantineKeptFraction),
        ("virtual_seconds", c => c.VirtualSeconds),
    ];

    /// <summary>report.json's text.</summary>
    public static string Json(StudyResults results)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("study", results.Index.Name);
            w.WriteNumber("target_accuracy", results.Index.TargetAccuracy);
            w.WriteStartArray("varying_keys");
            foreach (var key in results.Index.VaryingKeys)
            {
                w.WriteStringValue(key);
            }

            w.WriteEndArray();
            if (results.Index.TuneKey is { } tuneKey)
            {
                w.WriteString("tune_key", tuneKey);
            }
            else
            {
                w.WriteNull("tune_key");
            }

            w.WriteStartArray("cells");
            foreach (var cell in results.Cells)
            {
                w.WriteStartObject();
                w.WriteString("name", cell.Cell.Name);
                w.WriteStrings("keys", cell.Cell.Keys);
                w.WriteString("rule", cell.Cell.Rule);
                w.WriteString("attack", cell.Cell.Attack);
                w.WriteStrings("scenario", cell.Cell.Scenario);
                if (cell.Cell.TuneValue is { } tuned)
                {
                    w.WriteString("tune_value", tuned);
                }
                else
                {
                    w.WriteNull("tune_value");
                }

                w.WriteBoolean("selected", results.Selected.Contains(cell));
                w.WriteStartArray("seeds");
                foreach (var seed in cell.Cell.Seeds)
                {
                    w.WriteNumberValue(seed);
                }

                w.WriteEndArray();
                w.WriteNumber("runs_finished", cell.Runs.Count);
                w.WriteNumber("runs_failed", cell.Failures.Count);
                w.WriteNumber("runs_missing", cell.Missing.Count);
                w.WriteNumber("runs_damaged", cell.Damaged.Count);
                w.WriteNumber("target_reached", cell.TargetReached);
                foreach (var (name, get) in Quantities)
                {
                    var e = get(cell);
                    w.WriteNumberOrNull(name + "_mean", e.Mean);
                    w.WriteNumberOrNull(name + "_std", e.Std);
                }

                WriteSeedNotes(w, "failures", "error", cell.Failures);
                WriteSeedNotes(w, "damaged", "problem", cell.Damaged);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("tables");
            foreach (var table in results.Tables)
            {
                w.WriteStartObject();
                w.WriteStrings("scenario", table.Scenario);
                w.WriteStartArray("attacks");
                foreach (var attack in table.Attacks)
                {
                    w.WriteStringValue(attack);
                }

                w.WriteEndArray();
                w.WriteStartArray("rows");
                foreach (var row in table.Rows)
                {
                    w.WriteStartObject();
                    w.WriteString("rule", row.Rule);
                    if (row.TuneValue is { } tuned)
                    {
                        w.WriteString("tune_value", tuned);
                    }
                    else
                    {
                        w.WriteNull("tune_value");
                    }

                    w.WriteStartObject("final_accuracy_mean");
                    for (int i = 0; i < table.Attacks.Count; i++)
                    {
                        w.WriteNumberOrNull(table.Attacks[i], row.Cells[i]?.FinalAccuracy.Mean);
                    }

                    w.WriteEndObject();
                    w.WriteNumberOrNull("worst_case", row.WorstCase);
                    if (row.WorstAttack is { } worstAttack)
                    {
                        w.WriteString("worst_attack", worstAttack);
                    }
                    else
                    {
                        w.WriteNull("worst_attack");
                    }

                    w.WriteNumber("missing_attacks", row.MissingAttacks);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("tuning");
            foreach (var choice in results.Tuning)
            {
                w.WriteStartObject();
                w.WriteStrings("scenario", choice.Scenario);
                w.WriteString("rule", choice.Rule);
                w.WriteStartArray("candidates");
                foreach (var (value, worst, missing) in choice.Candidates)
                {
                    w.WriteStartObject();
                    w.WriteString("value", value);
                    w.WriteNumberOrNull("worst_case", worst);
                    w.WriteNumber("missing_attacks", missing);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteString("chosen", choice.Chosen);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            ResilienceSection.Json(w, results);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    // A cell's seeds with a note each (a failed run's error, a damaged run's problem), as [{"seed": s, key: note}, ...].
    private static void WriteSeedNotes(Utf8JsonWriter w, string name, string key, IReadOnlyList<(int Seed, string Note)> notes)
    {
        w.WriteStartArray(name);
        foreach (var (seed, note) in notes)
        {
            w.WriteStartObject();
            w.WriteNumber("seed", seed);
            w.WriteString(key, note);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>cells.csv: name, each varying key, rule, attack, tune value, run counts, then each quantity's mean and std.</summary>
    public static string CellsCsv(StudyResults results)
    {
        var text = new StringBuilder();
        var header = new List<string> { "name" };
        header.AddRange(results.Index.VaryingKeys);
        header.AddRange(["rule", "attack", "tune_value", "selected", "runs_finished", "runs_failed", "runs_missing", "runs_damaged", "target_reached"]);
        header.AddRange(Quantities.SelectMany(q => new[] { q.Name + "_mean", q.Name + "_std" }));
        text.Append(string.Join(",", header.Select(Csv))).Append('\n');
        foreach (var cell in results.Cells)
        {
            var fields = new List<string> { cell.Cell.Name };
            fields.AddRange(results.Index.VaryingKeys.Select(k => cell.Cell.Keys.TryGetValue(k, out var v) ? v : ""));
            fields.AddRange([cell.Cell.Rule, cell.Cell.Attack, cell.Cell.TuneValue ?? "", results.Selected.Contains(cell) ? "true" : "false",
                Int(cell.Runs.Count), Int(cell.Failures.Count), Int(cell.Missing.Count), Int(cell.Damaged.Count), Int(cell.TargetReached)]);
            fields.AddRange(Quantities.SelectMany(q => new[] { Real(q.Get(cell).Mean), Real(q.Get(cell).Std) }));
            text.Append(string.Join(",", fields.Select(Csv))).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>tables.csv, long form: scenario, rule, tune value, attack, mean final accuracy; the worst case is the row with attack <c>worst case</c>.</summary>
    public static string TablesCsv(StudyResults results)
    {
        var text = new StringBuilder("scenario,rule,tune_value,attack,final_accuracy_mean\n");
        foreach (var table in results.Tables)
        {
            foreach (var row in table.Rows)
            {
                for (int i = 0; i < table.Attacks.Count; i++)
                {
                    text.Append(string.Join(",", new[] { table.Title, row.Rule, row.TuneValue ?? "", table.Attacks[i], Real(row.Cells[i]?.FinalAccuracy.Mean) }.Select(Csv))).Append('\n');
                }

                text.Append(string.Join(",", new[] { table.Title, row.Rule, row.TuneValue ?? "", "worst case", Real(row.WorstCase) }.Select(Csv))).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>report.md: the tables (final accuracy mean ± std in %, and the worst case), tuning, the resilience tables, then every cell's numbers.</summary>
    public static string Markdown(StudyResults results, IReadOnlyList<string> images, string extra = "")
    {
        var md = new StringBuilder();
        md.Append("# Study ").Append(results.Index.Name).Append("\n\n");
        md.Append(Describe(results)).Append("\n\n");
        if (DamagedRuns(results) is { Count: > 0 } damaged)
        {
            md.AppendJoin("", damaged.Select(problem => "- " + problem + "\n")).Append('\n');
        }

        foreach (var table in results.Tables)
        {
            md.Append("## Final accuracy, rule × attack: ").Append(table.Title).Append("\n\n");
            md.Append(MarkdownTable(TableHeader(table, results.Index.TuneKey), TableCells(table, results.Index.TuneKey)));
            md.Append('\n');
        }

        if (results.Tuning.Count > 0)
        {
            md.Append("## Tuning of ").Append(results.Index.TuneKey).Append(" (worst case over attacks per candidate)\n\n");
            md.Append(MarkdownTable(TuningHeader(results), TuningCells(results))).Append('\n');
        }

        if (results.Index.Resilience is { } resilience)
        {
            md.Append(ResilienceSection.Describe(resilience)).Append("\n\n");
            foreach (var (scenario, point, rows) in ResilienceSection.Groups(results))
            {
                md.Append("## ").Append(ResilienceSection.Heading(scenario, point, resilience)).Append("\n\n");
                md.Append(MarkdownTable(ResilienceSection.Header, ResilienceSection.Cells(rows))).Append('\n');
            }
        }

        md.Append(extra);
        md.Append("## Every cell (mean ± std over seeds)\n\n");
        md.Append(MarkdownTable(CellHeader(results), CellCells(results))).Append('\n');
        foreach (var image in images)
        {
            md.Append("![").Append(Path.GetFileNameWithoutExtension(image)).Append("](").Append(image).Append(")\n\n");
        }

        return md.ToString();
    }

    /// <summary>
    /// One line per damaged run: its cell, seed and problem (naming the file), and what to do. The report lists them
    /// under its first paragraph; <c>dstar report</c> prints them.
    /// </summary>
    public static IReadOnlyList<string> DamagedRuns(StudyResults results) =>
        results.Cells.SelectMany(c => c.Damaged.Select(d => $"damaged run {c.Cell.Name}, seed {d.Seed}, left out: {d.Problem}")).ToArray();

    /// <summary>One paragraph: how many cells and runs, what failed, the target.</summary>
    public static string Describe(StudyResults results)
    {
        int runs = results.Cells.Sum(c => c.Cell.Seeds.Count);
        int finished = results.Cells.Sum(c => c.Runs.Count);
        int failed = results.Cells.Sum(c => c.Failures.Count);
        int damaged = results.Cells.Sum(c => c.Damaged.Count);
        return string.Create(CultureInfo.InvariantCulture,
            $"{results.Cells.Count} cells, {runs} runs: {finished} finished, {failed} failed, {(damaged > 0 ? $"{damaged} damaged (left out: a run file is not valid), " : "")}{runs - finished - failed - damaged} not run. Accuracies are test accuracies (mean ± sample std over seeds, failed runs left out); the worst case is the lowest mean over the attacks; time to target is the first evaluation at ≥ {results.Index.TargetAccuracy:P0} accuracy, over the seeds that reached it.");
    }

    internal static IReadOnlyList<string> TableHeader(RuleAttackTable table, string? tuneKey) =>
        [.. new[] { "rule" }, .. tuneKey is null ? Array.Empty<string>() : [tuneKey], .. table.Attacks, "worst case"];

    internal static IReadOnlyList<IReadOnlyList<string>> TableCells(RuleAttackTable table, string? tuneKey) =>
        table.Rows.Select(row => (IReadOnlyList<string>)[
            row.Rule,
            .. tuneKey is null ? Array.Empty<string>() : [row.TuneValue ?? ""],
            .. row.Cells.Select(c => c is null ? "" : MeanStd(c.FinalAccuracy, percent: true) + (c.Failures.Count > 0 ? $" ({c.Failures.Count} failed)" : "") + (c.Damaged.Count > 0 ? $" ({c.Damaged.Count} damaged)" : "")),
            row.WorstCase is { } w ? Percent(w) + $" ({row.WorstAttack}{(row.MissingAttacks > 0 ? $"; {row.MissingAttacks} missing" : "")})" : "–",
        ]).ToArray();

    internal static IReadOnlyList<string> TuningHeader(StudyResults results) => ["scenario", "rule", "candidates: worst case", "chosen"];

    internal static IReadOnlyList<IReadOnlyList<string>> TuningCells(StudyResults results) =>
        results.Tuning.Select(t => (IReadOnlyList<string>)[
            t.Scenario.Count == 0 ? "all" : string.Join(", ", t.Scenario.Select(p => $"{p.Key}={p.Value}")),
            t.Rule,
            string.Join("; ", t.Candidates.Select(c => $"{c.Value}: {(c.WorstCase is { } w ? Percent(w) : "–")}")),
            t.Chosen,
        ]).ToArray();

    internal static IReadOnlyList<string> CellHeader(StudyResults results) =>
        ["cell", "seeds (ok/failed)", "final acc.", "best acc.", "time to target (virtual s)", "rounds to target", "filter precision", "filter recall", "Byzantine kept"];

    internal static IReadOnlyList<IReadOnlyList<string>> CellCells(StudyResults results) =>
        results.Cells.Select(c => (IReadOnlyList<string>)[
            c.Cell.Name,
            $"{c.Runs.Count}/{c.Failures.Count}",
            MeanStd(c.FinalAccuracy, percent: true),
            MeanStd(c.BestAccuracy, percent: true),
            MeanStd(c.TimeToTargetSeconds) + (c.Runs.Count > 0 ? $" ({c.TargetReached}/{c.Runs.Count})" : ""),
            MeanStd(c.TimeToTargetRounds),
            MeanStd(c.FilterPrecision),
            MeanStd(c.FilterRecall),
            MeanStd(c.ByzantineKeptFraction),
        ]).ToArray();

    /// <summary><c>mean ± std</c>, in percent or to 3 significant decimals; <c>–</c> without a value.</summary>
    public static string MeanStd(Estimate e, bool percent = false)
    {
        if (e.Mean is not { } mean)
        {
            return "–";
        }

        return percent
            ? string.Create(CultureInfo.InvariantCulture, $"{100 * mean:F1} ± {100 * (e.Std ?? 0):F1}")
            : string.Create(CultureInfo.InvariantCulture, $"{mean:G4} ± {e.Std ?? 0:G3}");
    }

    private static string Percent(double value) => string.Create(CultureInfo.InvariantCulture, $"{100 * value:F1}");

    private static string MarkdownTable(IReadOnlyList<string> header, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal);
        var md = new StringBuilder();
        md.Append("| ").Append(string.Join(" | ", header.Select(Cell))).Append(" |\n");
        md.Append('|').Append(string.Concat(header.Select(_ => " --- |"))).Append('\n');
        foreach (var row in rows)
        {
            md.Append("| ").Append(string.Join(" | ", row.Select(Cell))).Append(" |\n");
        }

        return md.ToString();
    }

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Real(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "";

    private static string Csv(string field) =>
        field.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
}
