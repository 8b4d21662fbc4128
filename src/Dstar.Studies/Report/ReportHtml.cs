using System.Net;
using System.Text;

namespace Dstar.Studies.Report;

/// <summary>report.html: one self-contained page (the tables, and every figure embedded as a base64 PNG).</summary>
public static class ReportHtml
{
    /// <summary>report.html.</summary>
    public const string FileName = "report.html";

    /// <summary>The page for <paramref name="results"/>, with the PNG files of <paramref name="images"/> (title, path) embedded.</summary>
    public static string Page(StudyResults results, IReadOnlyList<(string Title, string Path)> images)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Study ").Append(Encode(results.Index.Name)).Append("</title>\n<style>")
            .Append("body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:14px}")
            .Append("th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}")
            .Append("td.worst{font-weight:bold;background:#fff6e0}img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}figure{margin:1em 0}figcaption{font-size:14px;color:#555}")
            .Append("</style></head><body>\n");
        html.Append("<h1>Study ").Append(Encode(results.Index.Name)).Append("</h1>\n<p>").Append(Encode(ReportFiles.Describe(results))).Append("</p>\n");
        if (ReportFiles.DamagedRuns(results) is { Count: > 0 } damaged)
        {
            html.Append("<ul>\n");
            foreach (var problem in damaged)
            {
                html.Append("<li>").Append(Encode(problem)).Append("</li>\n");
            }

            html.Append("</ul>\n");
        }

        foreach (var table in results.Tables)
        {
            html.Append("<h2>Final accuracy (%), rule × attack: ").Append(Encode(table.Title)).Append("</h2>\n");
            Table(html, ReportFiles.TableHeader(table, results.Index.TuneKey), ReportFiles.TableCells(table, results.Index.TuneKey), worstColumn: true);
        }

        if (results.Tuning.Count > 0)
        {
            html.Append("<h2>Tuning of ").Append(Encode(results.Index.TuneKey ?? "")).Append(": worst case over attacks per candidate</h2>\n");
            Table(html, ReportFiles.TuningHeader(results), ReportFiles.TuningCells(results), worstColumn: false);
        }

        if (results.Index.Resilience is { } resilience)
        {
            html.Append("<p>").Append(Encode(ResilienceSection.Describe(resilience))).Append("</p>\n");
            foreach (var (scenario, point, rows) in ResilienceSection.Groups(results))
            {
                html.Append("<h2>").Append(Encode(ResilienceSection.Heading(scenario, point, resilience))).Append("</h2>\n");
                Table(html, ResilienceSection.Header, ResilienceSection.Cells(rows), worstColumn: false);
            }
        }

        foreach (var (title, path) in images)
        {
            html.Append("<figure><img alt=\"").Append(Encode(title)).Append("\" src=\"data:image/png;base64,")
                .Append(Convert.ToBase64String(File.ReadAllBytes(path))).Append("\"><figcaption>").Append(Encode(title)).Append("</figcaption></figure>\n");
        }

        html.Append("<h2>Every cell (mean ± std over seeds)</h2>\n");
        Table(html, ReportFiles.CellHeader(results), ReportFiles.CellCells(results), worstColumn: false);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void Table(StringBuilder html, IReadOnlyList<string> header, IReadOnlyList<IReadOnlyList<string>> rows, bool worstColumn)
    {
        html.Append("<table><tr>");
        foreach (var h in header)
        {
            html.Append("<th>").Append(Encode(h)).Append("</th>");
        }

        html.Append("</tr>\n");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            for (int i = 0; i < row.Count; i++)
            {
                html.Append(worstColumn && i == row.Count - 1 ? "<td class=\"worst\">" : "<td>").Append(Encode(row[i])).Append("</td>");
            }

            html.Append("</tr>\n");
        }

        html.Append("</table>\n");
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
