using Dstar.Engine.Configuration;
using Dstar.Engine.Simulation;
using Dstar.Learning.Data;
using Xunit;

namespace Dstar.Engine.Tests.Simulation;

/// <summary>
/// simulation.parallel: a run's metrics.csv (wall time aside) is byte-identical whether its gradients are computed on
/// 1, 2 or 3 threads, for crafting attacks, label flipping, worker momentum, k: auto, a deadline that closes rounds
/// before every prefetched gradient is read, and an evaluation split over several batches.
/// </summary>
public sealed class ParallelSimulationTests : IDisposable
{
    private readonly string _root = Scenarios.TemporaryDirectory();

    private static ExperimentConfig Images(string model) => new()
    {
        Seed = 5,
        Rounds = 8,
        EvalEvery = 4,
        Data = new DataConfig { Name = "fashion-mnist", Dir = DataLocator.BundledSampleCandidates().First(Directory.Exists), ValidationSize = 200 },
        Model = model,
        Workers = 8,
        K = 6,
        Delay = "pareto xm=1 alpha=1.5",
        LearningRate = 0.05,
        Momentum = 0.9,
        BatchSize = 16,
        CheckpointEvery = 0,
    };

    public static TheoryData<string, ExperimentConfig> Runs => new()
    {
        { "mlp, fast ALIE, dstar", Images("mlp hidden=32") with { Byzantine = 2, Attack = "alie", Aggregator = "dstar" } },
        { "mlp, label-flip with honest timing, worker momentum, median", Images("mlp hidden=32") with { Byzantine = 2, Attack = "label-flip", AttackTiming = "honest", WorkerMomentum = 0.5, Aggregator = "median" } },
        { "small-cnn, k: auto, fast sign-flip, trimmed mean", Images("small-cnn hidden=16") with { AutoK = true, Byzantine = 1, Attack = "sign-flip", Aggregator = "trimmed-mean" } },
        { "small-cnn, k: auto, no attack, worker momentum, mean", Images("small-cnn hidden=16") with { AutoK = true, WorkerMomentum = 0.9, Aggregator = "mean" } },
        {
            "logistic, deadline, honest-timed IPM, 3 evaluation batches",
            Scenarios.Logistic(workers: 9, k: 7, rounds: 15, aggregator: "median") with
            {
                Data = new DataConfig { Name = "synthetic-logistic", Samples = 12000, Features = 10, ValidationSize = 200 },
                Delay = "pareto xm=1 alpha=1.2",
                Deadline = 2,
                KMin = 4,
                Byzantine = 2,
                Attack = "ipm epsilon=0.5",
                AttackTiming = "honest",
            }
        },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public async Task Metrics_are_identical_on_one_two_and_three_threads(string name, ExperimentConfig config)
    {
        string? reference = null;
        foreach (var threads in new[] { 1, 2, 3 })
        {
            var directory = Path.Combine(_root, $"p{threads}");
            using (var simulator = new Simulator(config with { SimulationParallel = threads }))
            {
                Assert.Equal(threads, simulator.GradientThreadCount);
                var summary = await simulator.RunAsync(directory, plots: false);
                Assert.NotNull(summary);
            }

            var metrics = MetricsWithoutWallTime(directory);
            reference ??= metrics;
            Assert.True(reference == metrics, $"{name}: metrics.csv on {threads} threads differs from 1 thread");
        }
    }

    [Fact]
    public async Task A_run_resumed_on_another_thread_count_ends_as_if_never_stopped()
    {
        var config = Images("mlp hidden=32") with { Byzantine = 2, Attack = "alie", Aggregator = "dstar", Rounds = 10, CheckpointEvery = 2 };
        var whole = Path.Combine(_root, "whole");
        using (var simulator = new Simulator(config with { SimulationParallel = 1 }))
        {
            await simulator.RunAsync(whole, plots: false);
        }

        var split = Path.Combine(_root, "split");
        using (var simulator = new Simulator(config with { SimulationParallel = 1 }))
        {
            Assert.Null(await simulator.RunAsync(split, stopAfterRound: 4, plots: false));
        }

        using (var simulator = new Simulator(config with { SimulationParallel = 2 }))
        {
            Assert.NotNull(await simulator.RunAsync(split, resume: true, plots: false));
        }

        Assert.Equal(MetricsWithoutWallTime(whole), MetricsWithoutWallTime(split));
    }

    [Fact]
    public void Auto_uses_this_processs_share_of_the_cores_and_one_thread_for_batchnorm()
    {
        var config = new ExperimentConfig { Workers = 20, Model = "small-cnn" };
        Assert.Equal(1, SimulationParallelism.Resolve(config, cores: 1));
        Assert.Equal(8, SimulationParallelism.Resolve(config, cores: 8));
        Assert.Equal(4, SimulationParallelism.Resolve(config with { Threads = 2 }, cores: 8));
        Assert.Equal(20, SimulationParallelism.Resolve(config, cores: 64));
        Assert.Equal(3, SimulationParallelism.Resolve(config with { SimulationParallel = 3 }, cores: 1));
        Assert.Equal(5, SimulationParallelism.Resolve(config with { SimulationParallel = 8, Workers = 5 }, cores: 64));
        Assert.Equal(1, SimulationParallelism.Resolve(config with { Model = "resnet18" }, cores: 8));
        Assert.Equal(4, SimulationParallelism.Resolve(config with { Model = "resnet18 norm=group" }, cores: 4));
    }

    [Fact]
    public void Auto_computes_on_one_thread_when_a_gradient_is_too_small_to_hand_over()
    {
        var config = new ExperimentConfig { Workers = 20, Model = "mlp", BatchSize = 32 };
        Assert.Equal(1, SimulationParallelism.Resolve(config, cores: 4, parameters: 101));
        Assert.Equal(1, SimulationParallelism.Resolve(config, cores: 4, parameters: (SimulationParallelism.MinimumParallelWork / 32) - 1));
        Assert.Equal(4, SimulationParallelism.Resolve(config, cores: 4, parameters: SimulationParallelism.MinimumParallelWork / 32));
        Assert.Equal(2, SimulationParallelism.Resolve(config, cores: 2, parameters: 50_890));
        Assert.Equal(1, SimulationParallelism.Resolve(config, cores: 1, parameters: 50_890));

        // An explicit count is the user's, whatever the model's size.
        Assert.Equal(3, SimulationParallelism.Resolve(config with { SimulationParallel = 3 }, cores: 4, parameters: 101));
    }

    [Theory]
    [InlineData("logreg")]
    [InlineData("mlp hidden=32")]
    public async Task Auto_on_two_cores_picks_by_model_size_and_leaves_the_metrics_as_on_one_thread(string model)
    {
        // logreg's gradient is too small to hand over (1 thread); the mlp's is not (2). Either way the run must be the
        // one thread's, to the byte.
        var config = Images(model) with { Byzantine = 2, Attack = "alie", Aggregator = "dstar" };
        if (model == "logreg")
        {
            config = config with { Data = new DataConfig { Name = "synthetic-logistic", Samples = 2000, Features = 20, ValidationSize = 200 } };
        }

        var one = Path.Combine(_root, "one");
        using (var simulator = new Simulator(config with { SimulationParallel = 1 }))
        {
            await simulator.RunAsync(one, plots: false);
        }

        var auto = Path.Combine(_root, "auto");
        using (var simulator = new Simulator(config, cores: 2))
        {
            Assert.Equal(model == "logreg" ? 1 : 2, simulator.GradientThreadCount);
            await simulator.RunAsync(auto, plots: false);
        }

        Assert.Equal(MetricsWithoutWallTime(one), MetricsWithoutWallTime(auto));
    }

    [Theory]
    [InlineData("simulation.parallel=0", "simulation.parallel = '0': must be ≥ 1, or auto")]
    [InlineData("simulation.parallel=two", "simulation.parallel = 'two': expected an integer")]
    [InlineData("simulation.parallel=100000", "simulation.parallel = '100000': too large")]
    public void A_bad_thread_count_is_refused_by_name(string setting, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, [setting]));
        Assert.StartsWith(expected, Assert.Single(e.Errors).ToString());
    }

    [Fact]
    public void More_than_one_thread_for_a_batchnorm_model_is_refused_and_auto_is_written_back()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["model=resnet18", "data.name=cifar10", "simulation.parallel=2"]));
        Assert.Contains(e.Errors, x => x.Key == "simulation.parallel" && x.Problem.Contains("BatchNorm running statistics", StringComparison.Ordinal));
        Assert.Contains("parallel: auto", ConfigLoader.ToYaml(new ExperimentConfig()));
        Assert.Equal(3, ConfigLoader.Load(ConfigLoader.ToYaml(new ExperimentConfig { SimulationParallel = 3 })).SimulationParallel);
        Assert.Null(ConfigLoader.Load(ConfigLoader.ToYaml(new ExperimentConfig())).SimulationParallel);
    }

    /// <summary>metrics.csv with its wall_time column removed.</summary>
    private static string MetricsWithoutWallTime(string directory)
    {
        var lines = File.ReadAllLines(Path.Combine(directory, "metrics.csv"));
        int column = Array.IndexOf(lines[0].Split(','), "wall_time");
        Assert.True(column >= 0, "metrics.csv has no wall_time column");
        return string.Join('\n', lines.Select(line =>
        {
            // The first columns are plain numbers (no quoted commas before wall_time).
            var fields = line.Split(',').ToList();
            fields.RemoveAt(column);
            return string.Join(',', fields);
        }));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary directory is harmless.
        }
    }
}
