using System.CommandLine;
using Dstar.Cli.Failures;
using System.Globalization;
using System.Text.Json;
using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;
using Dstar.Engine.Running;
using Dstar.Engine.Simulation;
using Dstar.View;
using Dstar.View.Board;
using Spectre.Console;

namespace Dstar.Cli.Commands;

/// <summary>
/// <c>dstar demo [--json] [--out DIR [--overwrite]] [--set key=value]...</c>: the README's main job. One scenario, three runs:
/// plain averaging that waits for all 20 workers, the coordinate-wise median of the first 15, and dSTAR on the first
/// 15. Fashion-MNIST (the bundled sample, or the full set when installed), 4 fast Byzantine workers sending IPM with
/// ε = 100, Pareto (heavy-tailed) response times. Prints a comparison table and the plot paths, or JSON.
/// </summary>
public static class DemoCommand
{
    /// <summary>The demo's attack, named in the output.</summary>
    public const string Attack = "ipm epsilon=100";

    /// <summary>Where the demo writes without <c>--out</c>; an earlier demo there is moved aside, so the README's command can be run again.</summary>
    public static readonly string DefaultDirectory = Path.Combine("runs", "demo");

    /// <summary>The comparison plots the demo writes into its directory, beside the three run directories.</summary>
    public static IReadOnlyList<string> ComparisonPlots { get; } = ["accuracy_by_round.png", "accuracy_by_time.png"];

    /// <summary>The shared scenario (see experiments/demo.yaml, which holds the same values).</summary>
    public static ExperimentConfig Scenario() => new()
    {
        Seed = 1,
        Rounds = 200,
        EvalEvery = 20,
        Data = new DataConfig { Name = "fashion-mnist", Partition = "iid", ValidationSize = 1000 },
        Model = "mlp hidden=64",
        Workers = 20,
        K = 15,
        Byzantine = 4,
        Attack = Attack,
        AttackTiming = "fast",
        Aggregator = "dstar",
        Delay = "pareto xm=1 alpha=1.5",
        LearningRate = 0.1,
        Momentum = 0.9,
        BatchSize = 32,
        CheckpointEvery = 0,
        Threads = 1,
    };

    /// <summary>The three runs: name and the config changes from <see cref="Scenario"/>.</summary>
    public static IReadOnlyList<(string Name, Func<ExperimentConfig, ExperimentConfig> Change)> Runs { get; } =
    [
        ("mean (waits for all 20)", c => c with { Aggregator = "mean", K = c.Workers }),
        ("median (first 15)", c => c with { Aggregator = "median" }),
        ("dstar (first 15)", c => c with { Aggregator = "dstar" }),
    ];

    /// <summary>Builds the <c>demo</c> command.</summary>
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "print {\"runs\":[{\"name\",\"final_accuracy\",\"virtual_seconds\",\"byzantine_kept\"}]} instead of the table" };
        var output = new Option<string?>("--out") { Description = "where the three runs and the comparison plots go (default runs/demo, where an earlier demo is moved aside to runs/demo.old-TIMESTAMP); an --out that holds an earlier demo is refused without --overwrite" };
        var overwrite = new Option<bool>("--overwrite") { Description = "move an --out that holds an earlier demo aside to DIR.old-TIMESTAMP (never deleted) instead of refusing it" };
        var set = new Option<string[]>("--set") { Description = "override a scenario key for all three runs, e.g. --set rounds=100 (repeatable)" };
        var command = new Command("demo", "Mean vs median vs dSTAR on Fashion-MNIST with stragglers and 4 fast Byzantine workers (IPM ε = 100).") { json, output, overwrite, set };
        var view = new ViewOptionSet();
        view.AddTo(command);
        command.SetAction(parsed =>
        {
            var configuration = parsed.InvocationConfiguration;
            if (view.Read(parsed, "demo", configuration.Error, out var viewOptions) is var refused and not ExitCodes.Ok)
            {
                return refused;
            }

            return Run(parsed.GetValue(json), parsed.GetValue(output), parsed.GetValue(set) ?? [], configuration.Output, configuration.Error, viewOptions, parsed.GetValue(overwrite));
        });
        return command;
    }

    /// <summary>
    /// Runs the demo into <paramref name="directory"/> (null: <see cref="DefaultDirectory"/>), with the live view at
    /// <paramref name="view"/> when not null; a failure prints on <paramref name="error"/> and returns its exit code
    /// (<see cref="ExitCodes"/>). Nothing saved is replaced: an earlier demo in <see cref="DefaultDirectory"/> is moved
    /// aside (and said so); one in a directory the user named is refused unless <paramref name="overwrite"/> moves it aside.
    /// </summary>
    public static int Run(bool json, string? directory, IReadOnlyList<string> overrides, TextWriter output, TextWriter error, ViewOptions? view = null, bool overwrite = false) =>
        RunInto(json, directory ?? DefaultDirectory, mayMoveAside: directory is null || overwrite, overrides, output, error, view);

    /// <summary>
    /// Runs the demo into <paramref name="directory"/>; an earlier demo there is moved aside when
    /// <paramref name="mayMoveAside"/> (the default directory, or <c>--overwrite</c>), else refused.
    /// </summary>
    internal static int RunInto(bool json, string directory, bool mayMoveAside, IReadOnlyList<string> overrides, TextWriter output, TextWriter error, ViewOptions? view = null) =>
        CommandRunner.Run("demo", error, scope =>
        {
            var baseline = ConfigLoader.Load(ConfigLoader.ToYaml(Scenario()), overrides);
            if (Claim(directory, baseline, mayMoveAside) is { } moved)
            {
                (json ? error : output).WriteLine($"moved the previous {directory} aside to {moved}");
            }

            OutputDirectory.Create(directory, "--out");
            scope.RunDirectory = directory;
            var live = LiveView.StartIfAsked(view, "dstar demo", json ? TextWriter.Null : output);
            try
            {
                return Run(json, directory, baseline, live, output);
            }
            finally
            {
                live?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        });

    /// <summary>
    /// Makes <paramref name="directory"/> ready for a demo: when it holds an earlier one (a run in one of the three run
    /// directories, or the comparison plots), moves it aside to DIR.old-TIMESTAMP if <paramref name="mayMove"/> and
    /// returns where to, else refuses it. Returns null when nothing was moved.
    /// </summary>
    /// <exception cref="CommandFailure">the directory is a file, or holds an earlier demo and may not be moved.</exception>
    private static string? Claim(string directory, ExperimentConfig baseline, bool mayMove)
    {
        var found = !Directory.Exists(directory)
            ? []
            : Runs.Select(r => Path.Combine(directory, r.Change(baseline).Aggregator)).Where(d => RunDirectory.HoldsRun(d))
                .Concat(ComparisonPlots.Select(f => Path.Combine(directory, f)).Where(File.Exists))
                .ToList();
        return OutputDirectory.KeepSaved(directory, found, mayMove, "an earlier demo", "the demo's runs");
    }

    private static int Run(bool json, string directory, ExperimentConfig baseline, LiveView? live, TextWriter output)
    {
        var results = new List<(string Name, string Directory, RunSummary Summary, IReadOnlyList<RoundRecord> History)>();
        string? description = null;
        // Every run is on the page from the start, waiting until its turn.
        var viewRuns = Runs.Select(r => live?.Board.Add(r.Name)).ToArray();
        foreach (var ((name, change), viewRun) in Runs.Zip(viewRuns))
        {
            var config = change(baseline);
            var runDirectory = Path.Combine(directory, config.Aggregator);
            using var simulator = new Simulator(config, name);
            description ??= simulator.Description;
            if (!json)
            {
                output.WriteLine($"{name}: {simulator.Description}");
            }

            viewRun?.MeasurePhases(new SimulatorPhases(simulator));
            var history = new HistorySink();
            RunSummary summary;
            try
            {
                // An earlier demo was moved aside (Claim): a run directory that holds a run now is refused, not replaced.
                summary = simulator.RunAsync(new RunOptions { Directory = runDirectory, Mode = RunDirectoryMode.New, Sinks = viewRun is null ? [history] : [history, viewRun] })
                    .GetAwaiter().GetResult().Summary!;
            }
            catch (Exception e) when (viewRun is not null)
            {
                viewRun.Fail(e.Message.ReplaceLineEndings(" ").Trim());
                throw;
            }

            if (!json)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  final accuracy {SimulateCommand.Percent(summary.FinalAccuracy)}, {summary.VirtualSeconds:F1} virtual s, {summary.ByzantineKept} Byzantine gradients kept, {summary.WallSeconds:F1} wall s"));
                if (summary.StoppedAtRound is { } round)
                {
                    output.WriteLine($"  stopped at round {round}: {summary.StopReason}");
                }
            }

            // A run that stopped early was evaluated at its last parameters, which are those after its last
            // recorded round: show that point on the comparison plots too.
            if (summary.StoppedAtRound is not null && history.Records.Count > 0 && history.Records[^1].Accuracy is null)
            {
                history.Records[^1] = history.Records[^1] with { Accuracy = summary.FinalAccuracy, TestLoss = summary.FinalTestLoss };
            }

            results.Add((name, runDirectory, summary, history.Records));
        }

        var plots = new[]
        {
            Plots.Accuracy(Path.Combine(directory, ComparisonPlots[0]), results.Select(r => (r.Name, r.History)), byTime: false, "demo: test accuracy"),
            Plots.Accuracy(Path.Combine(directory, ComparisonPlots[1]), results.Select(r => (r.Name, r.History)), byTime: true, "demo: test accuracy"),
        };

        if (json)
        {
            WriteJson(results.Select(r => (r.Name, r.Summary)), output);
        }
        else
        {
            WriteTable(results.Select(r => (r.Name, r.Summary)), baseline, output);
            output.WriteLine("plots:");
            foreach (var path in plots.Concat(results.SelectMany(r => Plots.FileNames.Select(f => Path.Combine(r.Directory, f)))))
            {
                output.WriteLine("  " + path);
            }
        }

        live?.HoldIfInteractive(output);
        return 0;
    }

    private static void WriteTable(IEnumerable<(string Name, RunSummary Summary)> runs, ExperimentConfig c, TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = ColorSystemSupport.Detect,
        });
        if (!ReferenceEquals(output, Console.Out) || Console.IsOutputRedirected)
        {
            console.Profile.Width = 140;
        }

        var table = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"N = {c.Workers}, {c.Byzantine} fast Byzantine workers sending {c.Attack}, delays {c.Delay}, {c.Rounds} rounds"))
            .AddColumn("run")
            .AddColumn(new TableColumn("final accuracy").RightAligned())
            .AddColumn(new TableColumn("virtual time (s)").RightAligned())
            .AddColumn(new TableColumn("s per round").RightAligned())
            .AddColumn(new TableColumn("Byzantine gradients kept").RightAligned())
            .AddColumn("note");
        var c2 = CultureInfo.InvariantCulture;
        foreach (var (name, s) in runs)
        {
            var note = s.StoppedAtRound is { } round ? $"diverged at round {round}/{c.Rounds}" : $"finished {s.Rounds} rounds";
            table.AddRow(Markup.Escape(name), SimulateCommand.Percent(s.FinalAccuracy), s.VirtualSeconds.ToString("F1", c2), s.MeanRoundVirtualSeconds.ToString("F2", c2), $"{s.ByzantineKept} of {s.ByzantineAccepted}", Markup.Escape(note));
        }

        console.Write(table);
    }

    private static void WriteJson(IEnumerable<(string Name, RunSummary Summary)> runs, TextWriter output)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("runs");
            foreach (var (name, s) in runs)
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                if (s.FinalAccuracy is { } accuracy)
                {
                    w.WriteNumber("final_accuracy", accuracy);
                }
                else
                {
                    w.WriteNull("final_accuracy");
                }

                w.WriteNumber("virtual_seconds", s.VirtualSeconds);
                w.WriteNumber("byzantine_kept", s.ByzantineKept);
                w.WriteNumber("mean_round_virtual_seconds", s.MeanRoundVirtualSeconds);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    /// <summary>Keeps a run's records for the comparison plots.</summary>
    private sealed class HistorySink : IRunSink
    {
        public List<RoundRecord> Records { get; } = new();

        public void Start(RunInfo info, long firstRound, IReadOnlyList<RoundRecord> replayed) => Records.AddRange(replayed);

        public void Record(RoundRecord record) => Records.Add(record);

        public void Finish(RunSummary summary)
        {
        }
    }
}
