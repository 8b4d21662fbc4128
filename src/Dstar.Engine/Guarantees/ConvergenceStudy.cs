using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;
using Dstar.Engine.Simulation;
using ScottPlot;

namespace Dstar.Engine.Guarantees;

/// <summary>One rule under one attack on a problem with a known optimum: the curve ‖x_t − θ*‖ and what it shows.</summary>
/// <param name="Rule">The aggregator spec.</param>
/// <param name="Attack">The attack spec, or "none" (no Byzantine worker).</param>
/// <param name="Distances">‖x_t − θ*‖ for t = 0…T (shorter when the run stopped).</param>
/// <param name="Fit">The fitted rate, floor, flattening and divergence.</param>
/// <param name="TheoreticalRate">max|1 − ηλ| over the Hessian's eigenvalues at θ*: the mean's rate without attack (set for every cell; it is the rule's only when E[G] = ∇F).</param>
/// <param name="Ratio">⟨E[G], g⟩/‖g‖² measured at x₀, or null when not measured or the rule could not run.</param>
/// <param name="RatioRate">max|1 − η·ratio·λ|: the rate if the rule's output were ratio·∇F everywhere, or null.</param>
/// <param name="StopReason">Why the run stopped early, or null.</param>
public sealed record ConvergenceResult(string Rule, string Attack, IReadOnlyList<double> Distances, ConvergenceFit Fit, double? TheoreticalRate, double? Ratio, double? RatioRate, string? StopReason);

/// <summary>
/// Linear convergence, shown: on a synthetic problem with a known θ* (synthetic-linear or synthetic-logistic), every
/// rule under every attack is trained for the config's rounds while ‖x_t − θ*‖ is recorded each round, and each curve
/// is fitted (<see cref="ConvergenceFit"/>) and set against the rate max|1 − ηλ| of the Hessian at θ*.
/// </summary>
public sealed record ConvergenceStudy
{
    /// <summary>The keys a study file may hold.</summary>
    public static IReadOnlyList<string> Keys { get; } = ["config", "aggregators", "attacks", "byzantine", "ratio_draws"];

    /// <summary>The base experiment (a synthetic data set and its model).</summary>
    public required ExperimentConfig Base { get; init; }

    /// <summary>Rule specs.</summary>
    public required IReadOnlyList<string> Aggregators { get; init; }

    /// <summary>Attack specs; "none" for no Byzantine worker.</summary>
    public required IReadOnlyList<string> Attacks { get; init; }

    /// <summary>f for the attacks (default: the config's byzantine, else 4).</summary>
    public int Byzantine { get; init; } = 4;

    /// <summary>Draws of the resilience ratio at x₀ per cell (0: not measured; default 30).</summary>
    public int RatioDraws { get; init; } = 30;

    /// <summary>Reads a study file.</summary>
    /// <exception cref="ArgumentException">a bad key or value, or data without a known optimum.</exception>
    /// <exception cref="ConfigException">the config is invalid.</exception>
    public static ConvergenceStudy Load(string path, IEnumerable<string>? overrides = null)
    {
        var file = StudyFile.Load(path, Keys);
        var config = file.Config(overrides ?? []);
        if (!config.Data.Name.StartsWith("synthetic-", StringComparison.Ordinal))
        {
            throw new ArgumentException($"{path}: data.name = '{config.Data.Name}' has no known optimum; use synthetic-linear or synthetic-logistic");
        }

        int byzantine = file.Int("byzantine", config.Byzantine > 0 ? config.Byzantine : 4, min: 1);
        if (byzantine >= config.Workers)
        {
            throw new ArgumentException($"{path}: byzantine = {byzantine} needs more than {config.Workers} workers");
        }

        return new ConvergenceStudy
        {
            Base = config,
            Aggregators = file.Strings("aggregators", [config.Aggregator]),
            Attacks = file.Strings("attacks", ["none"]),
            Byzantine = byzantine,
            RatioDraws = file.Int("ratio_draws", 30, min: 0, max: ResilienceOptions.MaxDraws),
        };
    }

    /// <summary>Runs every rule under every attack; returns the curves and the Hessian's eigenvalues at θ*.</summary>
    public async Task<(IReadOnlyList<ConvergenceResult> Results, IReadOnlyList<double> Eigenvalues)> RunAsync(Action<ConvergenceResult>? progress = null, CancellationToken cancellationToken = default)
    {
        using var session = new ResilienceSession(Base);
        var optimum = session.Workload.Synthetic?.Optimum
            ?? throw new ArgumentException($"data '{Base.Data.Name}' has no known optimum");
        var all = session.Workload.Shards.SelectMany(s => s).ToArray();
        var eigenvalues = Curvature.HessianEigenvalues(session.Workload.Oracle, all, optimum);
        double? theory = Base.Momentum == 0 ? Curvature.ContractionFactor(eigenvalues, Base.LearningRate) : null;
        var results = new List<ConvergenceResult>();
        foreach (var attack in Attacks)
        {
            foreach (var rule in Aggregators)
            {
                var cell = Base with { Aggregator = rule, Byzantine = attack == "none" ? 0 : Byzantine, Attack = attack == "none" ? null : attack, CheckpointEvery = 0, EvalEvery = Base.Rounds };
                double? ratio = null;
                if (RatioDraws >= 2)
                {
                    var estimate = await session.EstimateAsync(cell, session.Initial, RatioDraws, cancellationToken).ConfigureAwait(false);
                    ratio = estimate.Report?.Ratio.Estimate;
                }

                double? ratioRate = ratio is { } r && Base.Momentum == 0 ? Curvature.ContractionFactor(eigenvalues, Base.LearningRate * r) : null;
                var (distances, summary) = await TrainAsync(cell, optimum, cancellationToken).ConfigureAwait(false);
                var result = new ConvergenceResult(rule, attack, distances, ConvergenceFit.Fit(distances, summary?.StoppedAtRound), theory, ratio, ratioRate, summary?.StopReason);
                results.Add(result);
                progress?.Invoke(result);
            }
        }

        return (results, eigenvalues);
    }

    /// <summary>One PNG per attack: log₁₀‖x_t − θ*‖ against t, one line per rule; returns the paths.</summary>
    public static IReadOnlyList<string> Plot(string directory, string prefix, IReadOnlyList<ConvergenceResult> results, string title)
    {
        Directory.CreateDirectory(directory);
        var paths = new List<string>();
        foreach (var group in results.GroupBy(r => r.Attack))
        {
            var plot = new Plot();
            var palette = new ScottPlot.Palettes.Category10();
            int index = 0;
            foreach (var result in group)
            {
                var points = result.Distances.Select((d, t) => (t, d)).Where(p => double.IsFinite(p.d) && p.d > 0).ToArray();
                var line = plot.Add.Scatter(points.Select(p => (double)p.t).ToArray(), points.Select(p => Math.Log10(p.d)).ToArray());
                line.LegendText = result.Fit.Rate is { } rate ? $"{result.Rule} (rate {rate:F3})" : result.Fit.DivergesAt is { } at ? $"{result.Rule} (diverges at {at})" : $"{result.Rule} (no linear phase)";
                line.Color = palette.GetColor(index++);
                line.MarkerSize = 0;
                line.LineWidth = 2;
            }

            // Diverging curves run off the top: the axis stops a decade and a half above the start, so the others stay readable.
            var finite = group.SelectMany(r => r.Distances).Where(d => double.IsFinite(d) && d > 0).Select(Math.Log10).ToArray();
            double start = Math.Log10(group.First().Distances[0]);
            if (finite.Length > 0)
            {
                plot.Axes.SetLimitsY(Math.Min(finite.Min(), start) - 0.2, Math.Min(finite.Max(), start + 1.5) + 0.2);
            }

            string attack = group.Key == "none" ? "no attack" : group.Key;
            plot.Title($"{title}: {attack}");
            plot.XLabel("round t");
            plot.YLabel("log₁₀ ‖x_t − θ*‖");
            plot.ShowLegend(Alignment.UpperRight);
            string name = $"{prefix}-{Slug(group.Key)}.png";
            var path = Path.Combine(directory, name);
            plot.SavePng(path, 900, 560);
            paths.Add(path);
        }

        return paths;
    }

    private static string Slug(string text) => new(text.Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray());

    private static async Task<(IReadOnlyList<double> Distances, RunSummary? Summary)> TrainAsync(ExperimentConfig cell, float[] optimum, CancellationToken cancellationToken)
    {
        try
        {
            using var simulator = new Simulator(cell, "convergence");
            var sink = new DistanceSink(simulator, optimum);
            var summary = await simulator.RunAsync(directory: null, sinks: [sink], plots: false, cancellationToken: cancellationToken).ConfigureAwait(false);
            return (sink.Distances, summary);
        }
        catch (Exception e) when (e is ArgumentException or ConfigException)
        {
            return ([double.NaN, double.NaN], new RunSummary("convergence", null, null, null, 0, 0, 0, 0, null, null, null, 0, 0, new Dictionary<string, long>(), 0, e.Message.ReplaceLineEndings(" ")));
        }
    }

    /// <summary>Records ‖x_t − θ*‖ at the start and after every round (reads the server's parameters; changes nothing).</summary>
    private sealed class DistanceSink(Simulator simulator, float[] optimum) : IRunSink
    {
        public List<double> Distances { get; } = new();

        public void Start(RunInfo info, long firstRound, IReadOnlyList<RoundRecord> replayed) => Distances.Add(Distance());

        public void Record(RoundRecord record) => Distances.Add(Distance());

        public void Finish(RunSummary summary)
        {
        }

        private double Distance()
        {
            var x = simulator.Server.Parameters.Span;
            double sum = 0;
            for (int j = 0; j < x.Length; j++)
            {
                double e = (double)x[j] - optimum[j];
                sum += e * e;
            }

            return Math.Sqrt(sum);
        }
    }
}
