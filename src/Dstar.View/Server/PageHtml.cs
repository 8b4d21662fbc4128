using System.Globalization;
using System.Net;
using System.Text;
using Dstar.Engine.Recording;
using Dstar.View.Board;

namespace Dstar.View.Server;

/// <summary>
/// The page at <c>/</c>. Rendered on the server as plain tables (every run; for each, its per-worker totals and last
/// rounds), which is what a browser without JavaScript shows, refreshing every few seconds. The script replaces them
/// with the live charts and the worker strip.
/// </summary>
internal static class PageHtml
{
    /// <summary>Rounds listed per run in the table without JavaScript.</summary>
    public const int RecentRounds = 10;

    public static string Render(ViewBoard board, string title)
    {
        var c = CultureInfo.InvariantCulture;
        var html = new StringBuilder(16 * 1024);
        html.Append("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<link rel=\"icon\" href=\"data:,\">\n")
            .Append("<title>").Append(E(title)).Append("</title>\n")
            .Append("<link rel=\"stylesheet\" href=\"lib/uplot/uPlot.min.css\">\n<link rel=\"stylesheet\" href=\"app.css\">\n")
            .Append("<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>\n</head>\n<body>\n")
            .Append("<header><h1>").Append(E(title)).Append("</h1><p id=\"status\">")
            .Append("Tables as of ").Append(DateTime.UtcNow.ToString("HH:mm:ss", c)).Append(" UTC; this page reloads every 5 s without JavaScript.</p></header>\n")
            .Append("<section id=\"static\">\n");
        if (board.Study is { } study)
        {
            Study(html, study.Snapshot());
        }

        if (board.Cluster is { } cluster)
        {
            Cluster(html, cluster.Snapshot());
        }

        html.Append("<h2>Runs</h2>\n<table class=\"runs\">\n<thead><tr><th>run</th><th>state</th><th>round</th><th>accuracy</th><th>validation loss</th><th>virtual time (s)</th><th>wall time (s)</th><th>Byzantine kept</th></tr></thead>\n<tbody>\n");
        var runs = board.Runs.Select(r => (Run: r, Snapshot: r.Snapshot())).ToArray();
        foreach (var (_, s) in runs)
        {
            html.Append("<tr data-run=\"").Append(s.Id.ToString(c)).Append("\"><td>").Append(E(s.Name)).Append("</td><td>").Append(E(s.State.Name()))
                .Append(s.Problem is null ? "" : ": " + E(s.Problem)).Append("</td><td>")
                .Append(s.RoundCount.ToString(c)).Append(s.Info is { } i ? " / " + i.Rounds.ToString(c) : "").Append("</td><td>")
                .Append(Percent(s.Summary?.FinalAccuracy ?? s.LastEvaluated?.Accuracy)).Append("</td><td>")
                .Append(Real(s.Last?.Loss, "F4")).Append("</td><td>").Append(Real(s.Last?.VirtualTime, "F1")).Append("</td><td>")
                .Append(Real(s.Last?.WallTime, "F1")).Append("</td><td>")
                .Append(s.Summary is { } summary ? $"{summary.ByzantineKept.ToString(c)} of {summary.ByzantineAccepted.ToString(c)}" : "–")
                .Append("</td></tr>\n");
        }

        html.Append("</tbody>\n</table>\n");
        foreach (var (run, s) in runs)
        {
            var records = run.Records();
            html.Append("<h2>").Append(E(s.Name)).Append("</h2>\n");
            if (s.Info is { } info)
            {
                html.Append("<p>").Append(E(info.Description)).Append("</p>\n");
            }

            html.Append("<table class=\"workers\">\n<caption>Per worker: rounds kept, filtered by the rule, dropped as late, dropped for another reason</caption>\n")
                .Append("<thead><tr><th>worker</th><th>Byzantine</th><th>kept</th><th>filtered</th><th>late</th><th>other drops</th></tr></thead>\n<tbody>\n");
            foreach (var t in WorkerTotals.Of(s.Info, records))
            {
                html.Append("<tr><td>").Append(t.Worker.ToString(c)).Append("</td><td>").Append(t.Byzantine ? "yes" : "").Append("</td><td>")
                    .Append(t.Kept.ToString(c)).Append("</td><td>").Append(t.Filtered.ToString(c)).Append("</td><td>")
                    .Append(t.Late.ToString(c)).Append("</td><td>").Append(t.OtherDrops.ToString(c)).Append("</td></tr>\n");
            }

            html.Append("</tbody>\n</table>\n<table class=\"rounds\">\n<caption>Last rounds</caption>\n")
                .Append("<thead><tr><th>round</th><th>virtual time (s)</th><th>round time (s)</th><th>loss</th><th>accuracy</th><th>kept</th><th>filtered</th><th>dropped</th><th>wall seconds by part</th></tr></thead>\n<tbody>\n");
            int first = Math.Max(0, records.Length - RecentRounds);
            var phases = run.Phases(first);
            foreach (var (r, p) in records.Skip(first).Select((r, i) => (r, i < phases.Length ? phases[i] : null)))
            {
                html.Append("<tr><td>").Append((r.Round + 1).ToString(c)).Append("</td><td>").Append(Real(r.VirtualTime, "F2")).Append("</td><td>")
                    .Append(Real(r.RoundTime, "F3")).Append("</td><td>").Append(Real(r.Loss, "F4")).Append("</td><td>").Append(Percent(r.Accuracy))
                    .Append("</td><td>").Append(E(string.Join(" ", r.Kept))).Append("</td><td>").Append(E(string.Join(" ", r.Filtered)))
                    .Append("</td><td>").Append(E(string.Join(" ", r.Dropped.Select(d => $"{d.Worker}:{Dstar.Engine.Collection.DropReasonNames.Name(d.Reason)}"))))
                    .Append("</td><td>").Append(p is null ? "" : E(string.Join(", ", p.Names.Zip(p.Seconds, (n, v) => $"{n} {v.ToString("G3", c)}"))))
                    .Append("</td></tr>\n");
            }

            html.Append("</tbody>\n</table>\n");
        }

        html.Append("</section>\n<main id=\"live\" hidden></main>\n")
            .Append("<script src=\"lib/uplot/uPlot.iife.min.js\"></script>\n<script src=\"app.js\"></script>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static void Study(StringBuilder html, StudySnapshot s)
    {
        var c = CultureInfo.InvariantCulture;
        html.Append("<h2>Study ").Append(E(s.Plan.Name)).Append("</h2>\n<p>").Append(E(s.State)).Append(": ")
            .Append(s.Finished.ToString(c)).Append(" runs finished, ").Append(s.Running.ToString(c)).Append(" running, ")
            .Append(s.Pending.ToString(c)).Append(" pending, ").Append(s.Failed.ToString(c)).Append(" failed, ")
            .Append(s.Incomplete.ToString(c)).Append(" incomplete</p>\n<table class=\"grid\" id=\"static-grid\">\n<thead><tr><th>#</th>");
        foreach (var key in s.Plan.VaryingKeys)
        {
            html.Append("<th>").Append(E(key)).Append("</th>");
        }

        html.Append("<th>rule</th><th>attack</th><th>state</th><th>seeds</th><th>final accuracy (mean ± std)</th></tr></thead>\n<tbody>\n");
        foreach (var cell in s.Cells)
        {
            html.Append("<tr data-cell=\"").Append(cell.Index.ToString(c)).Append("\"><td>").Append((cell.Index + 1).ToString(c)).Append("</td>");
            foreach (var key in s.Plan.VaryingKeys)
            {
                html.Append("<td>").Append(E(cell.Cell.Keys.TryGetValue(key, out var v) ? v : "")).Append("</td>");
            }

            html.Append("<td>").Append(E(cell.Cell.Rule)).Append("</td><td>").Append(E(cell.Cell.Attack)).Append("</td><td>").Append(cell.State.Name())
                .Append("</td><td>").Append(E(string.Join(" ", cell.Seeds.Select(x => $"{x.Seed}:{x.State.Name()}")))).Append("</td><td>")
                .Append(Percent(cell.FinalAccuracy.Mean))
                .Append(cell.FinalAccuracy.Count > 1 && cell.FinalAccuracy.Std is { } std ? " ± " + (100 * std).ToString("F1", c) : "")
                .Append("</td></tr>\n");
        }

        html.Append("</tbody>\n</table>\n");
        if (s.Report is not { } report)
        {
            html.Append("<p>No report yet.</p>\n");
            return;
        }

        if (report.Tables is { ValueKind: System.Text.Json.JsonValueKind.Array } tables)
        {
            foreach (var table in tables.EnumerateArray())
            {
                var attacks = table.GetProperty("attacks").EnumerateArray().Select(a => a.GetString() ?? "").ToArray();
                var scenario = string.Join(", ", table.GetProperty("scenario").EnumerateObject().Select(p => $"{p.Name}={p.Value.GetString()}"));
                html.Append("<table class=\"report-table\">\n<caption>Mean final accuracy, rule × attack — ").Append(E(scenario.Length == 0 ? "all cells" : scenario))
                    .Append("</caption>\n<thead><tr><th>rule</th>");
                foreach (var attack in attacks)
                {
                    html.Append("<th>").Append(E(attack)).Append("</th>");
                }

                html.Append("<th>worst case</th></tr></thead>\n<tbody>\n");
                foreach (var row in table.GetProperty("rows").EnumerateArray())
                {
                    var means = row.GetProperty("final_accuracy_mean");
                    html.Append("<tr><td>").Append(E(row.GetProperty("rule").GetString() ?? "")).Append("</td>");
                    foreach (var attack in attacks)
                    {
                        html.Append("<td>").Append(Percent(means.TryGetProperty(attack, out var m) && m.ValueKind == System.Text.Json.JsonValueKind.Number ? m.GetDouble() : null)).Append("</td>");
                    }

                    var worst = row.GetProperty("worst_case");
                    html.Append("<td>").Append(Percent(worst.ValueKind == System.Text.Json.JsonValueKind.Number ? worst.GetDouble() : null)).Append("</td></tr>\n");
                }

                html.Append("</tbody>\n</table>\n");
            }
        }

        foreach (var image in report.Images)
        {
            html.Append("<figure><img src=\"").Append(E(StudyJson.ImagePrefix + string.Join('/', image.Split('/').Select(Uri.EscapeDataString))))
                .Append("\" alt=\"").Append(E(image)).Append("\"><figcaption>").Append(E(image)).Append("</figcaption></figure>\n");
        }
    }

    private static void Cluster(StringBuilder html, ClusterSnapshot s)
    {
        var c = CultureInfo.InvariantCulture;
        html.Append("<h2>Cluster</h2>\n<table id=\"static-cluster\">\n<thead><tr><th>worker</th><th>connection</th><th>last seen (s ago)</th><th>peer</th><th>sessions</th><th>gradients</th></tr></thead>\n<tbody>\n");
        foreach (var w in s.Workers)
        {
            html.Append("<tr><td>").Append(w.Worker.ToString(c)).Append("</td><td>").Append(w.State == "never" ? "never connected" : w.State).Append("</td><td>")
                .Append(w.LastSeen is { } seen ? (s.Now - seen).TotalSeconds.ToString("F1", c) : "–").Append("</td><td>").Append(E(w.Peer ?? ""))
                .Append("</td><td>").Append(w.Joins.ToString(c)).Append("</td><td>").Append(w.Gradients.ToString(c)).Append("</td></tr>\n");
        }

        html.Append("</tbody>\n</table>\n<table id=\"static-refusals\">\n<caption>Refused, by reason</caption>\n<thead><tr><th>what</th><th>reason</th><th>count</th></tr></thead>\n<tbody>\n");
        foreach (var (what, counts) in new[] { ("connection", s.JoinRefusals), ("gradient", s.GradientRefusals) })
        {
            foreach (var (reason, count) in counts)
            {
                html.Append("<tr><td>").Append(what).Append("</td><td>").Append(E(reason)).Append("</td><td>").Append(count.ToString(c)).Append("</td></tr>\n");
            }
        }

        html.Append("</tbody>\n</table>\n");
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Percent(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("P1", CultureInfo.InvariantCulture) : "–";

    private static string Real(double? value, string format) => value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "–";
}
