using Dstar.Engine.Configuration;
using Dstar.Engine.Randomness;
using Dstar.Learning;
using Dstar.Learning.Data;
using Dstar.Learning.Data.Synthetic;
using Dstar.Learning.Models;
using Dstar.Learning.Oracle;

namespace Dstar.Engine.Simulation;

/// <summary>
/// What a simulated run trains: the gradient oracle (model + training and test data), each worker's shard of
/// training-sample indices, the server's validation split (held out from every worker and from the test set), and x₀.
/// </summary>
public sealed class Workload : IDisposable
{
    private Workload(IGradientOracle oracle, IReadOnlyList<int[]> shards, int[] validation, float[] initial, string description, float[]? optimum)
    {
        Oracle = oracle;
        Shards = shards;
        ValidationIndices = validation;
        InitialParameters = initial;
        Description = description;
        Optimum = optimum;
    }

    /// <summary>The oracle every simulated worker and the server use (one at a time).</summary>
    public IGradientOracle Oracle { get; }

    /// <summary>Per worker, its training-sample indices.</summary>
    public IReadOnlyList<int[]> Shards { get; }

    /// <summary>The server's validation split (training-sample indices no worker holds).</summary>
    public int[] ValidationIndices { get; }

    /// <summary>x₀, from the model's seeded initialisation.</summary>
    public float[] InitialParameters { get; }

    /// <summary>One line naming the data (and which copy of it was used) and the model.</summary>
    public string Description { get; }

    /// <summary>θ* for synthetic problems (known optimum), else null.</summary>
    public float[]? Optimum { get; }

    /// <summary>Builds the workload of <paramref name="config"/> (already validated).</summary>
    /// <exception cref="ArgumentException">the data cannot feed this many workers, or the model does not fit the data.</exception>
    public static Workload Create(ExperimentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        TorchThreads.Configure(config.Threads);
        var data = config.Data;
        int dataSeed = RandomStreams.DeriveSeed(config.Seed, 0, StreamPurpose.Data);
        Dataset train, test;
        double l2 = 0;
        float[]? optimum = null;
        string dataDescription;
        switch (data.Name)
        {
            case "synthetic-logistic":
            case "synthetic-linear":
            {
                int testCount = Math.Max(500, data.Samples / 5);
                var problem = data.Name == "synthetic-logistic"
                    ? LogisticRegressionProblem.Create(data.Samples, testCount, data.Features, seed: dataSeed)
                    : LinearRegressionProblem.Create(data.Samples, testCount, data.Features, data.Noise, seed: dataSeed);
                train = problem.Train;
                test = problem.Test;
                l2 = problem.L2;
                optimum = problem.Optimum;
                dataDescription = $"{data.Name} ({data.Samples} samples, {data.Features} features)";
                if (config.Model != problem.ModelName)
                {
                    throw new ArgumentException($"model = '{config.Model}' does not fit data.name = {data.Name}: use model = {problem.ModelName}");
                }

                break;
            }

            default:
            {
                var loaded = DataSources.Load(data);
                train = loaded.Train;
                test = loaded.Test;
                dataDescription = loaded.Description;
                break;
            }
        }

        var split = Split(train.Count, config, dataSeed, train);
        var definition = ModelCatalog.Create(config.Model);
        var model = definition.Build(train.SampleShape, train.ClassCount, RandomStreams.DeriveSeed(config.Seed, 0, StreamPurpose.Initialization));
        var oracle = new TorchGradientOracle(model, train, test, new TorchGradientOracleOptions { L2 = l2 });
        var initial = new float[oracle.ParameterCount];
        oracle.GetParameters(initial);
        var description = $"{dataDescription}, model {definition.Name} (d = {oracle.ParameterCount})";
        return new Workload(oracle, split.Shards, split.Validation, initial, description, optimum);
    }

    /// <inheritdoc />
    public void Dispose() => Oracle.Dispose();

    private static (int[][] Shards, int[] Validation) Split(int count, ExperimentConfig config, int dataSeed, Dataset train)
    {
        // One seeded shuffle: the first validation_size samples are the server's, the rest (up to train_limit in
        // total) go to the workers through the partitioner.
        var order = Enumerable.Range(0, count).ToArray();
        new Random(dataSeed).Shuffle(order);
        int used = Math.Min(count, config.Data.TrainLimit ?? count);
        int validationSize = config.Data.ValidationSize;
        if (used - validationSize < config.Workers)
        {
            throw new ArgumentException(
                $"data.validation_size = {validationSize} leaves {used - validationSize} of {used} training samples for {config.Workers} workers; every worker needs at least one");
        }

        var validation = order[..validationSize];
        var pool = order[validationSize..used];
        var shards = Partitioning.Split(config.Data.Partition, pool, train, config.Workers, dataSeed);
        return (shards, validation);
    }
}
