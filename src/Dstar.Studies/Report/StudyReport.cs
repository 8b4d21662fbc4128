using System.Text;

namespace Dstar.Studies.Report;

/// <summary>
/// <c>dstar report DIR</c>: reads a sweep's output directory and writes DIR/report/: report.json, report.md,
/// cells.csv, tables.csv, the heatmaps, the resilience tables and heatmaps (a study with <c>resilience:</c>), the
/// accuracy curves and report.html.
/// </summary>
public static class StudyReport
{
    /// <summary>The folder, in the sweep's output directory, that the report is written to.</summary>
    public const string Folder = "report";

    /// <summary>Writes the report of the study in <paramref name="directory"/>; returns the results and the report folder.</summary>
    /// <exception cref="InvalidDataException">plan.json is missing or damaged (damaged runs are reported, in <see cref="CellResult.Damaged"/>).</exception>
    public static (StudyResults Results, string Folder) Write(string directory, double? targetAccuracy = null)
    {
        var results = StudyResults.Read(directory, targetAccuracy);
        var folder = Path.Combine(directory, Folder);
        Directory.CreateDirectory(folder);
        var images = new List<(string Title, string Path)>();
        foreach (var (key, label, file) in new[]
                 {
                     ("byzantine", "f (Byzantine workers)", "heatmap-f.png"),
                     ("data.partition", "heterogeneity (data.partition)", "heatmap-heterogeneity.png"),
                     ("wire", "wire format", "heatmap-wire.png"),
                 })
        {
            if (results.WorstCaseBy(key) is { } map)
            {
                var title = $"Worst-case final accuracy (%), rule × {label}";
                images.Add((title, ReportPlots.Heatmap(Path.Combine(folder, file), title, label, map.Rules, map.Values, map.Worst)));
            }
        }

        images.AddRange(ResilienceSection.Heatmaps(results, folder));

        // A study over k gets its own figures (time to target against k, accuracy against time per k) in place of
        // one curve figure per (k, delay) scenario.
        var (kImages, kMarkdown) = KReport.Write(results, folder);
        images.AddRange(kImages);
        var curves = Path.Combine(folder, "curves");
        Directory.CreateDirectory(curves);
        int figure = 0;
        foreach (var table in kImages.Count > 0 ? [] : results.Tables)
        {
            for (int a = 0; a < table.Attacks.Count; a++)
            {
                var series = table.Rows.Where(r => r.Cells[a] is not null).Select(r => (r.Rule, r.Cells[a]!.Runs)).ToArray();
                if (series.All(s => s.Runs.Count == 0))
                {
                    continue;
                }

                figure++;
                var name = table.Title + "; attack " + table.Attacks[a];
                foreach (var byTime in new[] { false, true })
                {
                    var file = Path.Combine(curves, $"{figure:D3}-{(byTime ? "time" : "rounds")}.png");
                    var title = $"{name}: accuracy vs {(byTime ? "virtual time" : "rounds")} (mean, min–max over seeds)";
                    images.Add((title, ReportPlots.Curves(file, Shorten(name), series, byTime)));
                }
            }
        }

        File.WriteAllText(Path.Combine(folder, ReportFiles.JsonName), ReportFiles.Json(results));
        File.WriteAllText(Path.Combine(folder, ReportFiles.CellsCsvName), ReportFiles.CellsCsv(results));
        File.WriteAllText(Path.Combine(folder, ReportFiles.TablesCsvName), ReportFiles.TablesCsv(results));
        File.WriteAllText(Path.Combine(folder, ReportFiles.MarkdownName), ReportFiles.Markdown(results, images.Select(i => Path.GetRelativePath(folder, i.Path)).ToArray(), kMarkdown));
        File.WriteAllText(Path.Combine(folder, ReportHtml.FileName), ReportHtml.Page(results, images), new UTF8Encoding(false));
        return (results, folder);
    }

    private static string Shorten(string text) => text.Length <= 90 ? text : text[..87] + "...";
}
