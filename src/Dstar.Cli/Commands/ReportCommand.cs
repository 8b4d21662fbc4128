using System.CommandLine;
using System.Globalization;
using Dstar.Studies.Report;

namespace Dstar.Cli.Commands;

/// <summary>
/// <c>dstar report DIR [--target-accuracy A]</c>: the report of a sweep's output directory (docs/studies.md), written to
/// DIR/report/. The numbers come from the run files only; running it again gives the same files.
/// </summary>
public static class ReportCommand
{
    /// <summary>Builds the <c>report</c> command.</summary>
    public static Command Create()
    {
        var directory = new Argument<string>("directory") { Description = "a dstar sweep --out directory" };
        var target = new Option<double?>("--target-accuracy") { Description = "the accuracy whose first crossing is timed (default: the study's report.target_accuracy, else 0.7)" };
        var command = new Command("report", "Tables, heatmaps, curves and report.html for a study's runs (the output directory of dstar sweep).") { directory, target };
        command.SetAction(parsed => Run(parsed.GetValue(directory)!, parsed.GetValue(target), parsed.InvocationConfiguration.Output, parsed.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Runs the command.</summary>
    public static int Run(string directory, double? target, TextWriter output, TextWriter error)
    {
        if (target is { } t && !(t > 0 && t <= 1))
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dstar report: --target-accuracy = {t}: must be in (0, 1]"));
            return 1;
        }

        try
        {
            var (results, folder) = StudyReport.Write(directory, target);
            output.WriteLine(ReportFiles.Describe(results));
            output.WriteLine($"report: {Path.Combine(folder, ReportHtml.FileName)}, {ReportFiles.JsonName}, {ReportFiles.MarkdownName}, {ReportFiles.CellsCsvName}, {ReportFiles.TablesCsvName}");
            return 0;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"dstar report: {e.Message.ReplaceLineEndings(" ").Trim()}");
            return 1;
        }
    }
}
