using System.Text.Json;
using Dstar.View.Board;
using Dstar.Engine.Recording;

namespace Dstar.View.Server;

/// <summary>The study's JSON: <c>GET /api/study</c> and the event stream's <c>study</c> event (docs/view.md).</summary>
public static class StudyJson
{
    /// <summary>Where the report's images are served (relative to the page): <c>study/report/heatmap-f.png</c>.</summary>
    public const string ImagePrefix = "study/report/";

    /// <summary><c>GET /api/study</c>: the study's line, every cell and the report.</summary>
    public static byte[] Study(StudyView study) => ViewJson.Write(w => Write(w, study.Snapshot(), includeReport: true));

    /// <summary>
    /// The study's line with the cells in <paramref name="snapshot"/>, and its report's version; <c>GET /api/study</c>
    /// writes every cell and the report (<paramref name="includeReport"/>), the event stream only the cells that changed.
    /// </summary>
    public static void Write(Utf8JsonWriter w, StudySnapshot snapshot, bool includeReport)
    {
        var plan = snapshot.Plan;
        w.WriteStartObject();
        w.WriteString("name", plan.Name);
        w.WriteString("directory", snapshot.Directory);
        w.WriteString("state", snapshot.State);
        w.WriteStartArray("varying_keys");
        foreach (var key in plan.VaryingKeys)
        {
            w.WriteStringValue(key);
        }

        w.WriteEndArray();
        w.WriteString("tune_key", plan.TuneKey);
        w.WriteNumber("target_accuracy", plan.TargetAccuracy);
        w.WriteNumber("cell_count", plan.Cells.Count);
        w.WriteStartObject("runs");
        w.WriteNumber("total", plan.Cells.Sum(cell => cell.Seeds.Count));
        w.WriteNumber("pending", snapshot.Pending);
        w.WriteNumber("running", snapshot.Running);
        w.WriteNumber("finished", snapshot.Finished);
        w.WriteNumber("failed", snapshot.Failed);
        w.WriteNumber("incomplete", snapshot.Incomplete);
        w.WriteEndObject();
        w.WriteStartArray("cells");
        foreach (var cell in snapshot.Cells)
        {
            w.WriteStartObject();
            w.WriteNumber("index", cell.Index);
            w.WriteString("name", cell.Cell.Name);
            w.WriteStrings("keys", cell.Cell.Keys);
            w.WriteString("rule", cell.Cell.Rule);
            w.WriteString("attack", cell.Cell.Attack);
            w.WriteStrings("scenario", cell.Cell.Scenario);
            w.WriteString("tune_value", cell.Cell.TuneValue);
            w.WriteString("state", cell.State.Name());
            w.WriteNumberOrNull("final_accuracy_mean", cell.FinalAccuracy.Mean);
            w.WriteNumberOrNull("final_accuracy_std", cell.FinalAccuracy.Std);
            w.WriteNumber("finished", cell.Seeds.Count(s => s.State == StudyRunState.Finished));
            w.WriteStartArray("seeds");
            foreach (var seed in cell.Seeds)
            {
                w.WriteStartObject();
                w.WriteNumber("seed", seed.Seed);
                w.WriteString("state", seed.State.Name());
                w.WriteNumberOrNull("final_accuracy", seed.FinalAccuracy);
                w.WriteString("error", seed.Error);
                w.WriteNumber("run", seed.Run);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (snapshot.Report is { } version)
        {
            w.WriteNumber("report_version", version.Version);
        }
        else
        {
            w.WriteNull("report_version");
        }

        if (includeReport && snapshot.Report is { } report)
        {
            w.WriteStartObject("report");
            w.WriteNumber("version", report.Version);
            Element(w, "target_accuracy", report.TargetAccuracy);
            Element(w, "tables", report.Tables);
            Element(w, "tuning", report.Tuning);
            w.WriteStartArray("images");
            foreach (var image in report.Images)
            {
                w.WriteStartObject();
                w.WriteString("name", image);
                w.WriteString("url", ImagePrefix + string.Join('/', image.Split('/').Select(Uri.EscapeDataString)));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("html", Path.Combine(snapshot.Directory, Dstar.Studies.Report.StudyReport.Folder, Dstar.Studies.Report.ReportHtml.FileName));
            w.WriteEndObject();
        }
        else if (includeReport)
        {
            w.WriteNull("report");
        }

        w.WriteEndObject();
    }

    private static void Element(Utf8JsonWriter w, string name, JsonElement? value)
    {
        w.WritePropertyName(name);
        if (value is { } v)
        {
            v.WriteTo(w);
        }
        else
        {
            w.WriteNullValue();
        }
    }
}
