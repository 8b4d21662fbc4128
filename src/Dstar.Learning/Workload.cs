using Dstar.Learning.Data;
using Dstar.Learning.Data.Synthetic;
using Dstar.Learning.Models;
using Dstar.Learning.Oracle;
using Dstar.Learning.Partitioning;

namespace Dstar.Learning;

/// <summary>What to train on, as plain data; every field has a default. Validated by <see cref="Workload.Create"/>.</summary>
public sealed record WorkloadOptions
{
    /// <summary>The data set spec (default "fashion-mnist"; see <see cref="DatasetCatalog"/>).</summary>
    public string Dataset { get; init; } = "fashion-mnist";

    /// <summary>The <c>--data</c> directory, or null to search (see <see cref="DataLocator"/>).</summary>
    public string? DataDirectory { get; init; }

    /// <summary>The model spec (default "small-cnn"; see <see cref="ModelCatalog"/>). Synthetic problems need their own model (logreg or linreg).</summary>
    public string Model { get; init; } = "small-cnn";

    /// <summary>The partitioner spec (default "iid"; see <see cref="PartitionerCatalog"/>).</summary>
    public string Partition { get; init; } = "iid";

    /// <summary>N ≥ 1 workers (default 10).</summary>
    public int Workers { get; init; } = 10;

    /// <summary>Training samples held out for the server's validation split, away from every worker (default 1000).</summary>
    public int ValidationSamples { get; init; } = 1000;

    /// <summary>λ of the L2 term; null uses the synthetic problem's λ (or 0 for real data).</summary>
    public double? L2 { get; init; }

    /// <summary>Seeds the split, the partition and the model's initial parameters (default 1).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Torch's CPU threads; null for <see cref="TorchThreads.Configure"/>'s default.</summary>
    public int? Threads { get; init; }
}

/// <summary>
/// Everything a run needs from this layer: the data, the server's validation indices, one shard per worker, and one
/// oracle that the simulator and the server share (set θ, compute, next). <see cref="Description"/> is the line a run
/// prints to say which data was used.
/// </summary>
public sealed class Workload : IDisposable
{
    private readonly ModelDefinition _model;
    private readonly TorchGradientOracleOptions _oracleOptions;
    private readonly int _seed;
    private readonly List<TorchGradientOracle> _replicas = new();

    private Workload(LoadedData data, int[] validation, int[][] shards, TorchGradientOracle oracle, float[] initial, string description,
        ModelDefinition model, TorchGradientOracleOptions oracleOptions, int seed)
    {
        _model = model;
        _oracleOptions = oracleOptions;
        _seed = seed;
        Data = data;
        Validation = validation;
        Shards = shards;
        Oracle = oracle;
        InitialParameters = initial;
        Description = description;
    }

    /// <summary>The training and test sets and where they came from.</summary>
    public LoadedData Data { get; }

    /// <summary>The server's validation split (indices into the training set), disjoint from every shard.</summary>
    public int[] Validation { get; }

    /// <summary>Per worker, its training-sample indices.</summary>
    public int[][] Shards { get; }

    /// <summary>The gradient oracle over the training set (evaluation on the test set).</summary>
    public TorchGradientOracle Oracle { get; }

    /// <summary>θ₀, the model's seeded initial parameters.</summary>
    public float[] InitialParameters { get; }

    /// <summary>The known optimum for a synthetic problem, else null.</summary>
    public SyntheticProblem? Synthetic => Data.Synthetic;

    /// <summary>Data (path or generator, counts), model, split and partition in one line.</summary>
    public string Description { get; }

    /// <summary>
    /// Whether the model changes state outside its parameters when it computes a gradient (BatchNorm's running
    /// statistics): then every gradient must come from <see cref="Oracle"/> itself, not from a replica.
    /// </summary>
    public bool HasRunningState => _model.HasRunningState;

    /// <summary>
    /// The first <paramref name="count"/> replicas of <see cref="Oracle"/>, made on first request and kept (and disposed)
    /// with the workload: each a model of the same architecture over the same training and test sets with the same λ,
    /// for one more thread to compute gradients on. Loaded with the same parameters, a replica computes bit for bit
    /// the gradient <see cref="Oracle"/> computes (torch's CPU kernels are deterministic on one intra-op thread).
    /// </summary>
    /// <exception cref="InvalidOperationException">the model has running state (<see cref="HasRunningState"/>).</exception>
    public IReadOnlyList<IGradientOracle> Replicas(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > 0 && HasRunningState)
        {
            throw new InvalidOperationException($"model '{_model.Name}' updates running statistics with every gradient; its gradients cannot be computed on replicas");
        }

        while (_replicas.Count < count)
        {
            var model = _model.Build(Data.Train.SampleShape, Data.Train.ClassCount, _seed);
            _replicas.Add(new TorchGradientOracle(model, Data.Train, Data.Test, _oracleOptions));
        }

        return _replicas.Take(count).ToArray();
    }

    /// <summary>Loads the data, splits it, partitions it and builds the model and its oracle.</summary>
    /// <exception cref="Dstar.Core.Specs.SpecException">a bad data set, model or partitioner spec.</exception>
    /// <exception cref="DataFileException">missing or bad data files.</exception>
    /// <exception cref="ArgumentException">a bad count, or a model that does not fit the data; the message says which.</exception>
    public static Workload Create(WorkloadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Workers < 1)
        {
            throw new ArgumentException($"workers must be ≥ 1, got {options.Workers}", nameof(options));
        }

        var partitioner = PartitionerCatalog.Create(options.Partition);
        var modelDefinition = ModelCatalog.Create(options.Model);
        TorchThreads.Configure(options.Threads);
        var data = DatasetCatalog.Load(options.Dataset, options.DataDirectory);
        if (data.Synthetic is { } synthetic && modelDefinition.Name != synthetic.ModelName)
        {
            throw new ArgumentException($"the synthetic problem's known optimum is for model '{synthetic.ModelName}', not '{modelDefinition.Name}'", nameof(options));
        }

        if (data.Train.Count < options.Workers)
        {
            throw new DataFileException(options.Dataset,
                $"the training set has {data.Train.Count} samples, fewer than the {options.Workers} workers (each needs at least one); lower workers or use more data");
        }

        if (options.ValidationSamples < 0 || options.ValidationSamples > data.Train.Count - options.Workers)
        {
            throw new DataFileException(options.Dataset,
                $"data.validation_size = {options.ValidationSamples} is too large: at most {data.Train.Count - options.Workers} (the training set has {data.Train.Count} samples and each of the {options.Workers} workers needs at least one)");
        }

        var (validation, pool) = ValidationSplit.HoldOut(data.Train.Count, options.ValidationSamples, options.Seed);
        var shards = partitioner.Partition(pool, data.Train.Labels, options.Workers, options.Seed);
        double l2 = options.L2 ?? data.Synthetic?.L2 ?? 0;
        var model = modelDefinition.Build(data.Train.SampleShape, data.Train.ClassCount, options.Seed);
        var oracleOptions = new TorchGradientOracleOptions { L2 = l2 };
        var oracle = new TorchGradientOracle(model, data.Train, data.Test, oracleOptions);
        var initial = new float[oracle.ParameterCount];
        oracle.GetParameters(initial);
        var sizes = shards.Select(s => s.Length).ToArray();
        string description =
            $"data: {data.Description}; model: {modelDefinition.Name} ({oracle.ParameterCount} parameters); " +
            $"validation: {validation.Length} held out; partition: {partitioner.Name} over {options.Workers} workers " +
            $"({sizes.Min()}–{sizes.Max()} samples each); torch threads: {TorchThreads.Count}" + (TorchThreads.Source == TorchThreads.EnvironmentVariable ? $" (from {TorchThreads.EnvironmentVariable})" : "");
        return new Workload(data, validation, shards, oracle, initial, description, modelDefinition, oracleOptions, options.Seed);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var replica in _replicas)
        {
            replica.Dispose();
        }

        _replicas.Clear();
        Oracle.Dispose();
    }
}
