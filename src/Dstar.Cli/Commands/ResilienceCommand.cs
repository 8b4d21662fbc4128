using System.CommandLine;
using Dstar.Cli.Failures;
using System.Diagnostics;
using System.Globalization;
using Dstar.Engine.Configuration;
using Dstar.Engine.Guarantees;
using Spectre.Console;

namespace Dstar.Cli.Commands;

/// <summary>
/// <c>dstar resilience</c>: the paper's two guarantees, measured (docs/guarantees.md).
/// <list type="bullet">
/// <item>One configuration: <c>[--config F] [--set k=v]... [--rounds R] [--at init|CHECKPOINT] [--json FILE]</c>
/// estimates (α, f)-Byzantine resilience at one point from R independent rounds.</item>
/// <item><c>--grid STUDY.yaml --out DIR</c>: every rule × attack × f (× partition × point) of a study file, with the
/// honest draws of a point shared; writes results.json, α heatmaps and ratio-against-f plots.</item>
/// <item><c>--convergence STUDY.yaml --out DIR</c>: ‖x_t − θ*‖ per round for every rule × attack on a synthetic
/// problem, with fitted and theoretical rates; writes convergence.json and one plot per attack.</item>
/// </list>
/// </summary>
public static class ResilienceCommand
{
    /// <summary>The parsed options.</summary>
    public sealed record Arguments(
        string? Config,
        IReadOnlyList<string> Overrides,
        int? Rounds = null,
        string At = "init",
        string? Json = null,
        double Confidence = 0.95,
        int Bootstrap = 1000,
        string? Grid = null,
        string? Convergence = null,
        string? Out = null,
        bool Replot = false,
        bool Overwrite = false);

    /// <summary>What a <c>--grid</c> study writes into its <c>--out</c>, and a <c>--convergence</c> study: a directory holding either holds a study's results.</summary>
    public static IReadOnlyList<string> ResultFiles { get; } = ["results.json", "convergence.json"];

    /// <summary>Builds the <c>resilience</c> command.</summary>
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "the experiment YAML file (docs/config.md)" };
        var set = new Option<string[]>("--set") { Description = "override one config key, e.g. --set aggregator=median (repeatable; with --grid/--convergence it changes the study's config)" };
        var rounds = new Option<int?>("--rounds") { Description = "R, independent rounds drawn at the point (default 50; with --grid: the study's draws)" };
        var at = new Option<string>("--at") { Description = "the point x: 'init' (x₀, default) or a run's checkpoint.bin", DefaultValueFactory = _ => "init" };
        var json = new Option<string?>("--json") { Description = "also write the results as JSON to this file" };
        var confidence = new Option<double>("--confidence") { Description = "level of every interval (default 0.95)", DefaultValueFactory = _ => 0.95 };
        var bootstrap = new Option<int>("--bootstrap") { Description = "bootstrap resamples for the bias and variance intervals (default 1000)", DefaultValueFactory = _ => 1000 };
        var grid = new Option<string?>("--grid") { Description = "run a resilience study file (experiments/studies/resilience.yaml)" };
        var convergence = new Option<string?>("--convergence") { Description = "run a convergence study file (experiments/studies/convergence-linear.yaml)" };
        var output = new Option<string?>("--out") { Description = "the study's output directory (default runs/resilience-TIMESTAMP)" };
        var replot = new Option<bool>("--replot") { Description = "with --grid: redraw the plots and table from --out's results.json without running" };
        var overwrite = new Option<bool>("--overwrite") { Description = "move an --out that holds a study's results (results.json, convergence.json) aside to DIR.old-TIMESTAMP (never deleted) instead of refusing it" };
        var command = new Command("resilience", "Measure (α, f)-Byzantine resilience at a point, or linear convergence on a synthetic problem.")
        {
            config, set, rounds, at, json, confidence, bootstrap, grid, convergence, output, replot, overwrite,
        };
        command.SetAction(parsed => Run(
            new Arguments(parsed.GetValue(config), parsed.GetValue(set) ?? [], parsed.GetValue(rounds), parsed.GetValue(at) ?? "init",
                parsed.GetValue(json), parsed.GetValue(confidence), parsed.GetValue(bootstrap), parsed.GetValue(grid), parsed.GetValue(convergence), parsed.GetValue(output), parsed.GetValue(replot), parsed.GetValue(overwrite)),
            parsed.InvocationConfiguration.Output,
            parsed.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Runs the command; a failure prints one line on <paramref name="error"/> and returns its exit code (<see cref="ExitCodes"/>).</summary>
    public static int Run(Arguments a, TextWriter output, TextWriter error) =>
        CommandRunner.Run("resilience", error, _ =>
        {
            if (a.Grid is not null && a.Convergence is not null)
            {
                throw new ArgumentException("give --grid or --convergence, not both");
            }

            if ((a.Grid ?? a.Convergence) is not null && a.Config is not null)
            {
                throw new ArgumentException("a study file holds its own config; drop --config (use --set to change a key)");
            }

            if (a.Replot && a.Grid is null)
            {
                throw new ArgumentException("--replot redraws a --grid study's plots from its results.json: give --grid and --out with it");
            }

            if (a.Overwrite && (a.Out is null || a.Replot))
            {
                throw new ArgumentException(a.Replot
                    ? "--replot redraws the plots of --out's own results.json; drop --overwrite"
                    : "--overwrite moves an --out that holds a study's results aside: give --out DIR with it");
            }

            if (a.Out is not null && a.Grid is null && a.Convergence is null)
            {
                throw new ArgumentException("--out is the output directory of a --grid or --convergence study; one measurement writes only the table (and --json FILE)");
            }

            // Checked before the rounds are drawn, not after.
            if (a.Json is not null && Directory.Exists(a.Json))
            {
                throw new CommandFailure($"--json '{a.Json}' is a directory: give a file name", FailureKind.Data);
            }

            if (a.Rounds is < 2 or > ResilienceOptions.MaxDraws)
            {
                throw new ArgumentException($"--rounds must be in 2..{ResilienceOptions.MaxDraws}, got {a.Rounds}");
            }

            if (!(a.Confidence > 0 && a.Confidence < 1))
            {
                throw new ArgumentException($"--confidence must be in (0, 1), got {a.Confidence.ToString(CultureInfo.InvariantCulture)}");
            }

            if (a.Bootstrap is < 10 or > ResilienceOptions.MaxBootstrapSamples)
            {
                throw new ArgumentException($"--bootstrap must be in 10..{ResilienceOptions.MaxBootstrapSamples}, got {a.Bootstrap}");
            }

            if (a.Grid is not null)
            {
                return RunGrid(a, output);
            }

            if (a.Convergence is not null)
            {
                return RunConvergence(a, output);
            }

            var config = ConfigLoader.LoadFile(a.Config, a.Overrides);
            using var session = new ResilienceSession(config, new ResilienceOptions { Confidence = a.Confidence, BootstrapSamples = a.Bootstrap, Seed = config.Seed });
            var point = session.Load(a.At);
            output.WriteLine($"dstar resilience: {session.Workload.Description}");
            var result = session.EstimateAsync(config, point, a.Rounds ?? 50).GetAwaiter().GetResult();
            if (a.Json is not null)
            {
                ResilienceJson.Write(a.Json, [result]);
            }

            if (result.Report is null)
            {
                throw new InvalidOperationException($"'{result.Rule}' under {result.Attack} with f = {result.Byzantine} could not run: {result.Failure}");
            }

            WriteReport(result, Console(output));
            if (a.Json is not null)
            {
                output.WriteLine($"results: {a.Json}");
            }

            return 0;
        });

    private static int RunGrid(Arguments a, TextWriter output)
    {
        var study = ResilienceStudy.Load(a.Grid!, a.Overrides);
        study = study with { Draws = a.Rounds ?? study.Draws };
        string directory = a.Out ?? Path.Combine("runs", "resilience-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        if (a.Replot)
        {
            if (a.Out is null)
            {
                throw new ArgumentException("--replot needs --out DIR, the study directory that holds results.json");
            }

            WriteStudy(ResilienceJson.Read(Path.Combine(directory, "results.json")), study, directory, output);
            return 0;
        }

        Claim(directory, a.Overwrite, output);
        OutputDirectory.Create(directory, "--out");
        output.WriteLine($"dstar resilience --grid {a.Grid}: {study.CellCount} cells, {study.Draws} draws each, into {directory}");
        var clock = Stopwatch.StartNew();
        int done = 0;
        var results = study.RunAsync(
            _ =>
            {
                if (++done % 50 == 0)
                {
                    output.WriteLine($"  {done}/{study.CellCount} cells, {clock.Elapsed.TotalSeconds:F0} s");
                }
            },
            line => output.WriteLine("  " + line)).GetAwaiter().GetResult();
        double seconds = clock.Elapsed.TotalSeconds;
        ResilienceJson.Write(Path.Combine(directory, "results.json"), results, seconds);
        if (a.Json is not null)
        {
            ResilienceJson.Write(a.Json, results, seconds);
        }

        WriteStudy(results, study, directory, output);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{results.Count} cells in {seconds:F0} s; results and plots in {directory}"));
        return 0;
    }

    /// <summary>
    /// Keeps a study's saved results: a <paramref name="directory"/> that holds one (<see cref="ResultFiles"/>) is
    /// refused, or with <paramref name="overwrite"/> moved aside to DIR.old-TIMESTAMP (never deleted), as
    /// <c>simulate --overwrite</c> does. Checked before anything runs.
    /// </summary>
    /// <exception cref="CommandFailure">the directory holds a study's results and <paramref name="overwrite"/> is not set, or it is a file.</exception>
    private static void Claim(string directory, bool overwrite, TextWriter output)
    {
        var held = ResultFiles.Select(f => Path.Combine(directory, f)).Where(File.Exists).ToList();
        if (OutputDirectory.KeepSaved(directory, held, overwrite, "a study's results", "the study's results",
                " (--replot redraws a --grid study's plots from them)") is { } moved)
        {
            output.WriteLine($"moved the previous {directory} aside to {moved}");
        }
    }

    private static void WriteStudy(IReadOnlyList<ResilienceResult> results, ResilienceStudy study, string directory, TextWriter output)
    {
        var console = Console(output);
        foreach (var group in results.GroupBy(r => (r.Partition, r.Point)))
        {
            var slice = group.ToArray();
            string slug = Slug($"{group.Key.Partition}-{group.Key.Point}");
            string title = $"{group.Key.Partition}, {group.Key.Point}";
            ResiliencePlots.AlphaHeatmap(Path.Combine(directory, $"alpha-{slug}.png"), slice, study.Aggregators, study.Attacks, study.HeatmapByzantine,
                $"angle condition: implied α, n = {study.Base.Workers}, k = {study.Base.K}, f = {study.HeatmapByzantine} ({study.Base.AttackTiming}); {title}");
            ResiliencePlots.AlphaHeatmap(Path.Combine(directory, $"ball-alpha-{slug}.png"), slice, study.Aggregators, study.Attacks, study.HeatmapByzantine,
                $"ball condition: α, n = {study.Base.Workers}, k = {study.Base.K}, f = {study.HeatmapByzantine} ({study.Base.AttackTiming}); {title}", ball: true);
            ResiliencePlots.RatioByByzantine(Path.Combine(directory, $"ratio-{slug}.png"), slice, study.Aggregators,
                $"worst ⟨E[G], g⟩/‖g‖² over attacks; n = {study.Base.Workers}, k = {study.Base.K}; {title}");
            WriteAlphaTable(slice, study, title, console);
        }
    }

    private static int RunConvergence(Arguments a, TextWriter output)
    {
        var study = ConvergenceStudy.Load(a.Convergence!, a.Overrides);
        string directory = a.Out ?? Path.Combine("runs", "convergence-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        Claim(directory, a.Overwrite, output);
        OutputDirectory.Create(directory, "--out");
        var c = CultureInfo.InvariantCulture;
        output.WriteLine($"dstar resilience --convergence {a.Convergence}: {study.Aggregators.Count * study.Attacks.Count} runs of {study.Base.Rounds} rounds, into {directory}");
        var clock = Stopwatch.StartNew();
        var (results, eigenvalues) = study.RunAsync().GetAwaiter().GetResult();
        double seconds = clock.Elapsed.TotalSeconds;
        string problem = study.Base.Data.Name;
        ConvergenceJson.Write(Path.Combine(directory, "convergence.json"), study, results, eigenvalues, seconds);
        ConvergenceStudy.Plot(directory, "distance", results, $"{problem}, η = {study.Base.LearningRate.ToString(c)}, f = {study.Byzantine} ({study.Base.AttackTiming})");
        output.WriteLine(string.Create(c, $"Hessian at θ*: λ_min = {eigenvalues[0]:G4}, λ_max = {eigenvalues[^1]:G4}; mean without attack contracts by max|1 − ηλ| = {results.FirstOrDefault()?.TheoreticalRate:F4} per round"));
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("attack").AddColumn("rule")
            .AddColumn(new TableColumn("fitted rate").RightAligned())
            .AddColumn(new TableColumn("tail rate").RightAligned())
            .AddColumn(new TableColumn("ratio at x₀").RightAligned())
            .AddColumn(new TableColumn("max|1 − η·ratio·λ|").RightAligned())
            .AddColumn(new TableColumn("‖x₀ − θ*‖").RightAligned())
            .AddColumn(new TableColumn("floor").RightAligned())
            .AddColumn("flattens / diverges");
        foreach (var r in results)
        {
            string shape = r.Fit.DivergesAt is { } d ? $"diverges at round {d}"
                : r.Fit.Floor >= r.Distances[0] / 2 ? "no progress (stalls)"
                : r.Fit.FlattensAt is { } f ? $"flat from round {f}" : "–";
            table.AddRow(Markup.Escape(r.Attack), Markup.Escape(r.Rule), Format(r.Fit.Rate, "F4"), Format(r.Fit.TailRate, "F4"), Format(r.Ratio, "F3"), Format(r.RatioRate, "F4"),
                Format(r.Distances[0], "G3"), Format(r.Fit.Floor, "G3"), Markup.Escape(shape));
        }

        Console(output).Write(table);
        output.WriteLine(string.Create(c, $"{results.Count} runs in {seconds:F0} s; convergence.json and plots in {directory}"));
        return 0;
    }

    private static void WriteReport(ResilienceResult r, IAnsiConsole console)
    {
        var report = r.Report!;
        var c = CultureInfo.InvariantCulture;
        string level = report.Confidence.ToString("P0", c);
        var table = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"{r.Rule} under {r.Attack}, f = {r.Byzantine}, k = {r.K} ({r.Timing}), {r.Partition}, at {r.Point}; R = {report.Draws} draws"))
            .AddColumn("quantity")
            .AddColumn(new TableColumn("estimate").RightAligned())
            .AddColumn(new TableColumn($"{level} interval").RightAligned())
            .AddColumn("against");
        table.AddRow(Markup.Escape("⟨E[G], g⟩ / ‖g‖²"), Format(report.Ratio.Estimate, "F4"), Range(report.Ratio, "F4"), Markup.Escape("1 = unbiased; ≤ 0: no α works"));
        table.AddRow("implied α (degrees)", Format(report.AlphaDegrees, "F1"), report.AlphaUpperDegrees is { } up ? $"≤ {up.ToString("F1", c)}" : "–",
            report.Holds ? "condition holds (lower end > 0)" : "[red]condition fails[/]");
        table.AddRow("implied η(n, f) = sin α / (√d·σ/‖g‖)", Format(report.ImpliedEta, "F3"), "", Markup.Escape($"√d·σ/‖g‖ = {report.NoiseRatio.ToString("F3", c)}"));
        foreach (var m in report.Moments)
        {
            table.AddRow($"E‖G‖^{m.Order}", Format(m.Aggregate.Estimate, "G4"), Range(m.Aggregate, "G4"), Markup.Escape($"honest E‖ĝ‖^{m.Order} = {m.Honest.ToString("G4", c)} (ratio {m.Ratio.ToString("F3", c)})"));
        }

        table.AddRow(Markup.Escape("bias ‖E[G] − g‖ / ‖g‖ (debiased)"), Format(report.DebiasedBias.Estimate, "F4"), Range(report.DebiasedBias, "F4"),
            Markup.Escape($"plug-in {report.Bias.ToString("F4", c)}; noise alone gives {report.BiasResolution.ToString("F4", c)}"));
        table.AddRow("tr Cov(G) / ‖g‖²", Format(report.Variance, "G4"), "", "");
        if (report.VarianceRatio is { } v)
        {
            table.AddRow("variance / plain mean's without attack", Format(v.Estimate, "F3"), Range(v, "F3"), "same rounds, f = 0");
        }

        table.AddRow("‖g‖", Format(report.GradientNorm, "G4"), "", "full-batch honest gradient");
        console.Write(table);
    }

    private static void WriteAlphaTable(IReadOnlyList<ResilienceResult> slice, ResilienceStudy study, string title, IAnsiConsole console)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"α (upper end): angle condition / ball condition, at f = {study.HeatmapByzantine}; {title}")).AddColumn("rule");
        foreach (var attack in study.Attacks)
        {
            table.AddColumn(new TableColumn(Markup.Escape(attack)).RightAligned());
        }

        foreach (var rule in study.Aggregators)
        {
            var cells = study.Attacks.Select(attack =>
            {
                var r = slice.FirstOrDefault(x => x.Rule == rule && x.Attack == attack && (attack == "none" ? x.Byzantine == 0 : x.Byzantine == study.HeatmapByzantine));
                return r?.Report switch
                {
                    null => "n/a",
                    { } report => (report.Holds ? Format(report.AlphaUpperDegrees, "F0") + "°" : "fails") + " / " + (report.BallAlphaDegrees is { } b ? Format(b, "F0") + "°" : "fails"),
                };
            });
            table.AddRow(new[] { Markup.Escape(rule) }.Concat(cells).ToArray());
        }

        console.Write(table);
    }

    private static IAnsiConsole Console(TextWriter output)
    {
        bool terminal = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = ColorSystemSupport.Detect,
        });
        if (!terminal)
        {
            console.Profile.Width = 160;
        }

        return console;
    }

    private static string Format(double? value, string format) =>
        value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "–";

    private static string Range(Interval interval, string format) => Markup.Escape($"[{Format(interval.Low, format)}, {Format(interval.High, format)}]");

    private static string Slug(string text) => new(text.Select(ch => char.IsLetterOrDigit(ch) ? ch : '-').ToArray());
}
