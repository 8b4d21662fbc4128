using System.CommandLine;
using System.Globalization;
using Dstar.Cli.Failures;
using Dstar.Cluster.Launch;
using Dstar.Studies.Definition;
using Dstar.Studies.Report;
using Dstar.Studies.Sweep;
using Dstar.View;
using Dstar.View.Board;
using Spectre.Console;

namespace Dstar.Cli.Commands;

/// <summary>
/// <c>dstar sweep STUDY.yaml [--out DIR] [--parallel P] [--no-report]</c>: every run of a study (docs/studies.md), by a
/// pool of P <c>dstar sweep-worker</c> processes, resumable; then the report. Exit codes are those of every command
/// (<see cref="ExitCodes"/>): 0 when every run finished, 1 when some runs failed (the others are done and reported),
/// 2 for an invalid study or option, 3 when the study file or the output directory cannot be used (a run directory of
/// another config, another sweep in it) or a run's files are damaged, 130 after Ctrl+C.
/// </summary>
public static class SweepCommand
{
    /// <summary>The most worker processes <c>--parallel</c> may ask for: 4 per core, as for <c>threads</c>.</summary>
    public static int MaxParallel => 4 * Environment.ProcessorCount;

    /// <summary>Builds the <c>sweep</c> command.</summary>
    public static Command Create()
    {
        var study = new Argument<string>("study") { Description = "the study file (YAML, docs/studies.md)" };
        var output = new Option<string?>("--out") { Description = "the study's output directory (default runs/sweep-NAME); run again with the same --out to resume" };
        var parallel = new Option<int>("--parallel") { Description = "worker processes, each running one run at a time on its share of the cores (cores / P; simulation.parallel: auto uses it); 1 to 4 per core (default: the number of cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var noReport = new Option<bool>("--no-report") { Description = "do not write the report at the end (dstar report DIR does it later)" };
        var command = new Command("sweep", "Run every cell of a study (a grid of experiments × seeds) in parallel worker processes, resumably, then report.") { study, output, parallel, noReport };
        var view = new ViewOptionSet("serve a live web view of the study's grid, its runs and its report (default " + ViewOptions.DefaultUrl + "; docs/view.md)");
        view.AddTo(command);
        command.SetAction(parsed =>
        {
            var configuration = parsed.InvocationConfiguration;
            int refused = view.Read(parsed, "sweep", configuration.Error, out var viewOptions);
            return refused != ExitCodes.Ok
                ? refused
                : Run(parsed.GetValue(study)!, parsed.GetValue(output), parsed.GetValue(parallel), !parsed.GetValue(noReport), configuration.Output, configuration.Error, viewOptions);
        });
        return command;
    }

    /// <summary>Runs the command; with <paramref name="view"/>, serves the live view of the study while it runs.</summary>
    /// <returns>The exit code (<see cref="ExitCodes"/>); a failure prints on <paramref name="error"/>.</returns>
    public static int Run(string studyPath, string? outputDirectory, int parallel, bool report, TextWriter output, TextWriter error, ViewOptions? view = null) =>
        CommandRunner.Run("sweep", error, _ =>
        {
            if (parallel < 1 || parallel > MaxParallel)
            {
                throw new CommandFailure($"--parallel must be in 1..{MaxParallel} (4 per core; this machine has {Environment.ProcessorCount}), got {parallel}");
            }

            StudyPlan plan;
            try
            {
                plan = StudyPlan.Expand(StudyLoader.LoadFile(studyPath));
            }
            catch (StudyException e) when (e.Unreadable && e.Errors.Count == 1)
            {
                throw new CommandFailure($"{studyPath}: {e.Errors[0].Problem}", FailureKind.Data);
            }
            catch (StudyException e)
            {
                error.WriteLine($"dstar sweep: invalid study {studyPath} ({e.Errors.Count} problem{(e.Errors.Count == 1 ? "" : "s")}):");
                foreach (var problem in e.Errors)
                {
                    error.WriteLine("  " + CommandRunner.OneLine(problem.ToString()));
                }

                return ExitCodes.Usage;
            }

            return Run(plan, studyPath, outputDirectory, parallel, report, output, error, view);
        });

    private static int Run(StudyPlan plan, string studyPath, string? outputDirectory, int parallel, bool report, TextWriter output, TextWriter error, ViewOptions? view)
    {
        var directory = outputDirectory ?? Path.Combine("runs", "sweep-" + plan.Study.Name);
        var (executable, prefix) = ClusterLauncher.CurrentCommand();
        var console = new SweepConsole(output);
        ISweepProgress progress = console;
        LiveView? live = null;
        StudyView? studyView = null;
        if (view is not null)
        {
            // The grid is on the page from the first request, before the first run starts; the runs' rows and results
            // come from their files.
            var board = new ViewBoard();
            studyView = board.ShowStudy(PlanFile.Index(plan), directory);
            studyView.Refresh();
            live = LiveView.StartAsync(board, view, "dstar sweep: " + plan.Study.Name, output).GetAwaiter().GetResult();

            progress = new StudyProgress(console, studyView);
        }

        using var cancel = new CancellationTokenSource();
        using var watching = new CancellationTokenSource();
        var watch = studyView?.WatchAsync(ViewCommand.RefreshInterval, watching.Token) ?? Task.CompletedTask;
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            // Only once the view (when asked) is known to start: a refused view leaves no directory behind.
            OutputDirectory.Create(directory, "--out");
            output.WriteLine($"dstar sweep: study {plan.Study.Name}, {plan.Cells.Count} cells × {plan.Study.Seeds.Count} seed{(plan.Study.Seeds.Count == 1 ? "" : "s")} into {directory}");
            Task<SweepOutcome> Sweep() => StudySweep.RunAsync(plan, directory, parallel, new WorkerCommand(executable, prefix), progress, cancel.Token);
            bool terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
            var outcome = (terminal ? console.Live(Sweep) : Sweep()).GetAwaiter().GetResult();
            if (outcome.Cancelled)
            {
                output.WriteLine($"stopped; run dstar sweep {studyPath} --out {directory} again to continue");
                return ExitCodes.Interrupted;
            }

            int damaged = 0;
            if (report)
            {
                var (results, folder) = StudyReport.Write(directory);
                output.WriteLine($"report: {Path.Combine(folder, ReportHtml.FileName)} ({results.Tables.Count} table{(results.Tables.Count == 1 ? "" : "s")})");
                studyView?.Refresh(); // the report's tables and heatmaps, on the page at once
                damaged = ReportCommand.PrintDamaged(results, "sweep", error);
            }

            live?.HoldIfInteractive(output);
            return outcome.Failed > 0 ? ExitCodes.RunFailed : damaged > 0 ? ExitCodes.Data : ExitCodes.Ok;
        }
        catch
        {
            studyView?.SweepEnded(cancelled: true);
            throw;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            watching.Cancel();
            watch.GetAwaiter().GetResult();
            live?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
