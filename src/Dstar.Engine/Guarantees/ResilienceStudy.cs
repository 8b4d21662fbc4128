using System.Diagnostics;
using Dstar.Engine.Configuration;
using Dstar.Engine.Simulation;

namespace Dstar.Engine.Guarantees;

/// <summary>
/// A grid of resilience estimates: every rule × every attack × every f, for each partition and point. Per
/// (partition, point) the data and model are loaded once and each honest minibatch gradient is computed once, then
/// served to every rule, attack and f there. Attack "none" is run once per rule with no Byzantine worker (the rule
/// assumes f = 0 unless its spec says f=). The "trained" point is x after <see cref="TrainRounds"/> rounds of the base
/// config with the plain mean and no attack.
/// </summary>
public sealed record ResilienceStudy
{
    /// <summary>The keys a study file may hold.</summary>
    public static IReadOnlyList<string> Keys { get; } =
        ["config", "draws", "aggregators", "attacks", "byzantine", "partitions", "points", "train_rounds", "heatmap_byzantine"];

    /// <summary>The base experiment (data, model, N, k, timing, delays, batch size, seed).</summary>
    public required ExperimentConfig Base { get; init; }

    /// <summary>R, draws per cell (default 50).</summary>
    public int Draws { get; init; } = 50;

    /// <summary>Rule specs.</summary>
    public required IReadOnlyList<string> Aggregators { get; init; }

    /// <summary>Attack specs; "none" for no Byzantine worker.</summary>
    public required IReadOnlyList<string> Attacks { get; init; }

    /// <summary>The f values.</summary>
    public required IReadOnlyList<int> Byzantine { get; init; }

    /// <summary>Partition specs (default: the base config's).</summary>
    public required IReadOnlyList<string> Partitions { get; init; }

    /// <summary>"init" and/or "trained".</summary>
    public required IReadOnlyList<string> Points { get; init; }

    /// <summary>Rounds of mean, no-attack training that lead to the "trained" point (default 100).</summary>
    public int TrainRounds { get; init; } = 100;

    /// <summary>The f of the α heatmaps (default: the middle of <see cref="Byzantine"/>).</summary>
    public int HeatmapByzantine { get; init; }

    /// <summary>Reads a study file; <paramref name="overrides"/> (<c>key=value</c>) change its config.</summary>
    /// <exception cref="ArgumentException">a bad key or value (named).</exception>
    /// <exception cref="ConfigException">the config is invalid.</exception>
    public static ResilienceStudy Load(string path, IEnumerable<string>? overrides = null)
    {
        var file = StudyFile.Load(path, Keys);
        var config = file.Config(overrides ?? []);
        var byzantine = file.Ints("byzantine", [1, 2, 4], min: 1);
        var points = file.Strings("points", ["init"]);
        foreach (var p in points.Where(p => p is not ("init" or "trained")))
        {
            throw new ArgumentException($"{path}: points holds '{p}'; use init and/or trained");
        }

        if (byzantine.Max() >= config.Workers)
        {
            throw new ArgumentException($"{path}: byzantine holds {byzantine.Max()}, but there are only {config.Workers} workers");
        }

        return new ResilienceStudy
        {
            Base = config,
            Draws = file.Int("draws", 50, min: 2, max: ResilienceOptions.MaxDraws),
            Aggregators = file.Strings("aggregators", [config.Aggregator]),
            Attacks = file.Strings("attacks", ["sign-flip"]),
            Byzantine = byzantine,
            Partitions = file.Strings("partitions", [config.Data.Partition]),
            Points = points,
            TrainRounds = file.Int("train_rounds", 100, min: 1, max: ConfigLimits.MaxRounds),
            HeatmapByzantine = file.Int("heatmap_byzantine", byzantine[byzantine.Count / 2], min: 1),
        };
    }

    /// <summary>How many cells <see cref="RunAsync"/> estimates.</summary>
    public int CellCount =>
        Partitions.Count * Points.Count * Aggregators.Count * (Attacks.Count(a => a == "none") + (Attacks.Count(a => a != "none") * Byzantine.Count));

    /// <summary>Runs every cell; <paramref name="progress"/> hears each result as it is done.</summary>
    public async Task<IReadOnlyList<ResilienceResult>> RunAsync(Action<ResilienceResult>? progress = null, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        var results = new List<ResilienceResult>();
        foreach (var partition in Partitions)
        {
            var config = Base with { Data = Base.Data with { Partition = partition } };
            using var session = new ResilienceSession(config, new ResilienceOptions { Seed = config.Seed, BootstrapSamples = 400 });
            foreach (var pointName in Points)
            {
                var clock = Stopwatch.StartNew();
                var point = pointName == "init" ? session.Initial : await TrainAsync(config, cancellationToken).ConfigureAwait(false);
                await session.PrepareAsync(point, Draws, cancellationToken).ConfigureAwait(false);
                log?.Invoke($"{partition}, {point.Name}: point ready in {clock.Elapsed.TotalSeconds:F1} s");
                foreach (var attack in Attacks)
                {
                    foreach (int f in attack == "none" ? [0] : Byzantine)
                    {
                        foreach (var rule in Aggregators)
                        {
                            var cell = config with { Aggregator = rule, Byzantine = f, Attack = f == 0 ? null : attack };
                            var result = await session.EstimateAsync(cell, point, Draws, cancellationToken).ConfigureAwait(false);
                            results.Add(result);
                            progress?.Invoke(result);
                        }
                    }
                }

                log?.Invoke($"{partition}, {point.Name}: done in {clock.Elapsed.TotalSeconds:F1} s ({session.Oracle.Misses} gradients computed, {session.Oracle.Hits} served from memory)");
            }
        }

        return results;
    }

    private async Task<ResiliencePoint> TrainAsync(ExperimentConfig config, CancellationToken cancellationToken)
    {
        var training = config with { Aggregator = "mean", Pre = [], Byzantine = 0, Attack = null, Rounds = TrainRounds, CheckpointEvery = 0, EvalEvery = TrainRounds };
        using var simulator = new Simulator(training, "resilience-train");
        await simulator.RunAsync(directory: null, plots: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        var server = simulator.Server;
        return new ResiliencePoint($"trained ({TrainRounds} rounds)", server.Parameters.ToArray(), server.PreviousAggregate?.ToArray(), server.Version);
    }
}
