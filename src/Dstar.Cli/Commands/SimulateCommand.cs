using System.CommandLine;
using System.Globalization;
using Dstar.Cli.Failures;
using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;
using Dstar.Engine.Running;
using Dstar.Engine.Simulation;
using Dstar.View;
using Dstar.View.Board;

namespace Dstar.Cli.Commands;

/// <summary>
/// <c>dstar simulate [--config F] [--set key=value]... [--out DIR] [--resume]</c>: one experiment in the virtual-time
/// simulator. Writes config.yaml, metrics.jsonl, metrics.csv, summary.json, PNG plots and checkpoint.bin into the run
/// directory (docs/simulate.md); <c>--resume</c> continues that directory's run from its last checkpoint.
/// </summary>
public static class SimulateCommand
{
    /// <summary>The parsed options.</summary>
    /// <param name="Config">The YAML file, or null for the defaults (with --resume: the run's own config.yaml).</param>
    /// <param name="Overrides"><c>key=value</c> overrides.</param>
    /// <param name="Out">The run directory, or null for runs/simulate-TIMESTAMP.</param>
    /// <param name="Resume">Continue from the directory's checkpoint.</param>
    /// <param name="Quiet">No progress output.</param>
    /// <param name="View">Serve the live web view (<c>--view</c>), or null.</param>
    /// <param name="Overwrite">Move a non-empty --out aside (to DIR.old-TIMESTAMP) instead of refusing it.</param>
    public sealed record Arguments(string? Config, IReadOnlyList<string> Overrides, string? Out, bool Resume, bool Quiet = false, ViewOptions? View = null, bool Overwrite = false);

    /// <summary>Builds the <c>simulate</c> command.</summary>
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "the experiment YAML file (docs/config.md); defaults apply to missing keys" };
        var set = new Option<string[]>("--set") { Description = "override one key, e.g. --set k=15 --set data.partition=\"dirichlet alpha=0.5\" (repeatable)" };
        var output = new Option<string?>("--out") { Description = "the run directory (default runs/simulate-YYYYMMDD-HHMMSS)" };
        var resume = new Option<bool>("--resume") { Description = "continue the run in --out from its last checkpoint, with its config.yaml" };
        var quiet = new Option<bool>("--quiet") { Description = "no progress display" };
        var overwrite = new Option<bool>("--overwrite") { Description = "move a non-empty --out aside to DIR.old-TIMESTAMP (never deleted) instead of refusing it" };
        var command = new Command("simulate", "Run one experiment in the deterministic virtual-time simulator.") { config, set, output, resume, quiet, overwrite };
        var view = new ViewOptionSet();
        view.AddTo(command);
        command.SetAction(parsed =>
        {
            var configuration = parsed.InvocationConfiguration;
            if (view.Read(parsed, "simulate", configuration.Error, out var viewOptions) is var refused and not ExitCodes.Ok)
            {
                return refused;
            }

            return Run(
                new Arguments(parsed.GetValue(config), parsed.GetValue(set) ?? [], parsed.GetValue(output), parsed.GetValue(resume), parsed.GetValue(quiet), viewOptions, parsed.GetValue(overwrite)),
                configuration.Output,
                configuration.Error);
        });
        return command;
    }

    /// <summary>Runs the command; a failure prints one line on <paramref name="error"/> and returns its exit code (<see cref="ExitCodes"/>).</summary>
    public static int Run(Arguments arguments, TextWriter output, TextWriter error) =>
        CommandRunner.Run("simulate", error, scope =>
        {
            // Refuse a bad --view before any work is done.
            arguments.View?.Resolve();
            string directory;
            ExperimentConfig config;
            if (arguments.Resume && arguments.Overwrite)
            {
                throw new ArgumentException("--resume and --overwrite exclude each other");
            }

            if (arguments.Resume)
            {
                if (arguments.Out is null)
                {
                    throw new ArgumentException("--resume needs --out DIR, the run directory to continue");
                }

                if (arguments.Config is not null)
                {
                    throw new ArgumentException("--resume continues with the run's own config.yaml; drop --config (use --set to change, e.g., rounds)");
                }

                directory = arguments.Out;
                scope.RunDirectory = directory;
                config = ConfigLoader.LoadFile(Path.Combine(directory, "config.yaml"), arguments.Overrides, "--resume");
            }
            else
            {
                config = ConfigLoader.LoadFile(arguments.Config, arguments.Overrides);
                directory = arguments.Out ?? Path.Combine("runs", "simulate-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
                if (RunDirectory.Claim(directory, arguments.Overwrite ? RunDirectoryMode.Overwrite : RunDirectoryMode.New) is { } moved)
                {
                    output.WriteLine($"moved the previous {directory} aside to {moved}");
                }
            }

            scope.RunDirectory = directory;
            using var simulator = new Simulator(config, name: "simulate");

            // Made once the data loaded: a run refused for its data (a missing data.dir, too few samples) leaves no
            // empty run directory behind.
            if (!arguments.Resume)
            {
                OutputDirectory.Create(directory, "--out");
            }

            output.WriteLine($"dstar simulate: {simulator.Description}");
            var view = LiveView.StartIfAsked(arguments.View, "dstar simulate: " + Path.GetFileName(Path.GetFullPath(directory).TrimEnd('/')), output);
            var viewRun = view?.Board.Add("simulate").MeasurePhases(new SimulatorPhases(simulator));
            RunSummary summary;
            try
            {
                summary = SimulationConsole.Run(simulator, directory, arguments.Resume, output, arguments.Quiet ? null : output, viewRun)!;
            }
            catch (Exception e)
            {
                viewRun?.Fail(e.Message.ReplaceLineEndings(" ").Trim());
                view?.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }

            Print(summary, directory, output);
            if (simulator.Timing is { } timing)
            {
                output.WriteLine(Describe(timing));
            }

            if (view is not null)
            {
                view.HoldIfInteractive(output);
                view.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            return 0;
        });

    private static void Print(RunSummary s, string directory, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(c, $"final accuracy {Percent(s.FinalAccuracy)} (best {Percent(s.BestAccuracy)}) after {s.Rounds} rounds, {s.VirtualSeconds:F1} virtual s ({s.MeanRoundVirtualSeconds:F3} per round), {s.WallSeconds:F1} wall s"));
        output.WriteLine(string.Create(c, $"Byzantine gradients kept: {s.ByzantineKept} of {s.ByzantineAccepted} accepted; filter precision {Ratio(s.FilterPrecision)}, recall {Ratio(s.FilterRecall)}"));
        if (s.StoppedAtRound is { } round)
        {
            output.WriteLine($"the run stopped at round {round}: {s.StopReason}");
        }

        output.WriteLine($"run directory: {directory}");
        foreach (var name in new[] { "config.yaml", MetricsFiles.JsonLinesName, MetricsFiles.CsvName, SummaryFile.FileName }.Concat(Plots.FileNames))
        {
            output.WriteLine("  " + Path.Combine(directory, name));
        }
    }

    /// <summary>The wall-clock breakdown of the round loop, one line.</summary>
    internal static string Describe(SimulationTiming t) => string.Create(CultureInfo.InvariantCulture,
        $"wall time in rounds {t.RoundsSeconds:F2} s: worker gradients {t.OracleSeconds:F2} s, attack {t.AttackSeconds:F2} s, validation gradient {t.ValidationSeconds:F2} s, aggregation {t.AggregationSeconds:F2} s, evaluation {t.EvaluationSeconds:F2} s, simulator overhead {t.OverheadSeconds:F3} s ({t.OverheadFraction:P1} of the rounds without evaluation)");

    internal static string Percent(double? value) => value is { } v ? v.ToString("P1", CultureInfo.InvariantCulture) : "–";

    internal static string Ratio(double? value) => value is { } v ? v.ToString("F3", CultureInfo.InvariantCulture) : "–";
}
