using System.CommandLine;
using System.Globalization;
using Dstar.Cli.Failures;
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

    /// <summary>
    /// Runs the command. Exit codes are those of every command (<see cref="ExitCodes"/>): 0 when the report is written
    /// from whole run files, 2 for a bad option, 3 when plan.json is missing or damaged, or when some runs' files are
    /// damaged (the report is still written, without them, and each is named on <paramref name="error"/>).
    /// </summary>
    public static int Run(string directory, double? target, TextWriter output, TextWriter error) =>
        CommandRunner.Run("report", error, _ =>
        {
            if (target is { } t && !(t > 0 && t <= 1))
            {
                throw new CommandFailure(string.Create(CultureInfo.InvariantCulture, $"--target-accuracy = {t}: must be in (0, 1]"));
            }

            var (results, folder) = StudyReport.Write(directory, target);
            output.WriteLine(ReportFiles.Describe(results));
            output.WriteLine($"report: {Path.Combine(folder, ReportHtml.FileName)}, {ReportFiles.JsonName}, {ReportFiles.MarkdownName}, {ReportFiles.CellsCsvName}, {ReportFiles.TablesCsvName}");
            return PrintDamaged(results, "report", error) > 0 ? ExitCodes.Data : ExitCodes.Ok;
        });

    /// <summary>
    /// Prints one line on <paramref name="error"/> for each run of <paramref name="results"/> whose files are damaged
    /// (naming the file), then what to do; returns how many there were.
    /// </summary>
    public static int PrintDamaged(StudyResults results, string command, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(error);
        var damaged = ReportFiles.DamagedRuns(results);
        foreach (var line in damaged)
        {
            error.WriteLine($"dstar {command}: {CommandRunner.OneLine(line)}");
        }

        if (damaged.Count > 0)
        {
            error.WriteLine($"dstar {command}: {damaged.Count} run{(damaged.Count == 1 ? "" : "s")} left out of the report as damaged; move {(damaged.Count == 1 ? "its" : "their")} run director{(damaged.Count == 1 ? "y" : "ies")} aside and run dstar sweep again to redo {(damaged.Count == 1 ? "it" : "them")}");
        }

        return damaged.Count;
    }
}
