namespace Dstar.Engine.Configuration;

/// <summary>
/// One simulation experiment, as plain data. Built from YAML plus <c>--set</c> overrides by <see cref="ConfigLoader"/>
/// and checked in one place by <see cref="ConfigValidator"/>. Key names are those of the YAML file (docs/config.md).
/// </summary>
public sealed record ExperimentConfig
{
    /// <summary><c>seed</c>: every random stream of the run derives from it.</summary>
    public int Seed { get; init; } = 1;

    /// <summary><c>rounds</c>: optimizer steps to take.</summary>
    public int Rounds { get; init; } = 200;

    /// <summary><c>eval_every</c>: evaluate on the test set every E rounds (and after the last round).</summary>
    public int EvalEvery { get; init; } = 10;

    /// <summary><c>data.*</c>.</summary>
    public DataConfig Data { get; init; } = new();

    /// <summary><c>model</c>: <c>logreg</c>, <c>mlp</c>, <c>small-cnn</c>, <c>resnet18</c>, or <c>linear</c> for synthetic-linear.</summary>
    public string Model { get; init; } = "logreg";

    /// <summary><c>workers</c>: N.</summary>
    public int Workers { get; init; } = 20;

    /// <summary><c>k</c>: gradients per round (ignored when <see cref="AutoK"/>).</summary>
    public int K { get; init; } = 15;

    /// <summary><c>k: auto</c>: the server picks k each round in the bounds k_min..k_max (AdaptiveK).</summary>
    public bool AutoK { get; init; }

    /// <summary><c>k_max</c>: with <c>k: auto</c>, the largest k; null for N.</summary>
    public int? KMax { get; init; }

    /// <summary>The most gradients a round can take: k, or with <c>k: auto</c> k_max (N when not set).</summary>
    public int KCapacity => AutoK ? KMax ?? Workers : K;

    /// <summary><c>byzantine</c>: how many workers are Byzantine (f); they are the last f worker ids.</summary>
    public int Byzantine { get; init; }

    /// <summary><c>attack</c>: an attack spec (<c>ipm eps=100</c>), or <c>label-flip</c>; null for none.</summary>
    public string? Attack { get; init; }

    /// <summary><c>attack_timing</c>: <c>fast</c> or <c>honest</c>.</summary>
    public string AttackTiming { get; init; } = "fast";

    /// <summary>
    /// <c>wire</c>: how workers encode gradients on the wire, one of <see cref="Transport.WireFormats.Names"/>
    /// (<c>float32</c>, exact; <c>bfloat16</c> or <c>float16</c>, half the bytes). The server decodes to float32; the
    /// simulator rounds every gradient through the same codec, so its rule sees what a cluster server would.
    /// </summary>
    public string Wire { get; init; } = "float32";

    /// <summary><c>aggregator</c>: a rule spec.</summary>
    public string Aggregator { get; init; } = "dstar";

    /// <summary><c>pre</c>: pre-aggregator specs, applied in order.</summary>
    public IReadOnlyList<string> Pre { get; init; } = Array.Empty<string>();

    /// <summary><c>delay</c>: a delay-model spec.</summary>
    public string Delay { get; init; } = "shifted-exp";

    /// <summary><c>deadline</c>: seconds after publish; null for none.</summary>
    public double? Deadline { get; init; }

    /// <summary><c>k_min</c>: gradients needed to close at the deadline (null: ⌈k/2⌉+1); with <c>k: auto</c> also the least k it picks.</summary>
    public int? KMin { get; init; }

    /// <summary><c>lr</c>: η.</summary>
    public double LearningRate { get; init; } = 0.1;

    /// <summary><c>momentum</c>: μ in [0, 1).</summary>
    public double Momentum { get; init; }

    /// <summary>β of worker momentum (honest workers send momentum vectors); 0 for plain gradients.</summary>
    public double WorkerMomentum { get; init; }

    /// <summary><c>weight_decay</c>: λ ≥ 0.</summary>
    public double WeightDecay { get; init; }

    /// <summary><c>batch_size</c>: b, each worker's minibatch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary><c>validation_batch_size</c>: b_v for g₀; null means b.</summary>
    public int? ValidationBatchSize { get; init; }

    /// <summary><c>checkpoint_every</c>: write a checkpoint every C rounds; 0 for no periodic ones. A run with a directory also checkpoints after its last round and when interrupted.</summary>
    public int CheckpointEvery { get; init; } = 50;

    /// <summary><c>threads</c>: TorchSharp intra-op threads and the rule's degree of parallelism.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>
    /// <c>simulation.parallel</c>: threads that compute a simulated round's worker gradients, each with its own model
    /// replica; null for <c>auto</c> (<see cref="Simulation.SimulationParallelism.Resolve"/>). The metrics do not depend on it.
    /// </summary>
    public int? SimulationParallel { get; init; }

    /// <summary>b_v as used: <see cref="ValidationBatchSize"/> or <see cref="BatchSize"/>.</summary>
    public int EffectiveValidationBatchSize => ValidationBatchSize ?? BatchSize;
}

/// <summary>The <c>data.*</c> keys.</summary>
public sealed record DataConfig
{
    /// <summary><c>data.name</c>: <c>fashion-mnist</c>, <c>mnist</c>, <c>cifar10</c>, <c>synthetic-logistic</c> or <c>synthetic-linear</c>.</summary>
    public string Name { get; init; } = "fashion-mnist";

    /// <summary><c>data.dir</c>: where the files are; null searches DSTAR_DATA, the Debian package, then the bundled sample.</summary>
    public string? Dir { get; init; }

    /// <summary><c>data.partition</c>: a partition spec (<c>iid</c>, <c>dirichlet alpha=0.5</c>, <c>shards per-worker=2</c>).</summary>
    public string Partition { get; init; } = "iid";

    /// <summary><c>data.validation_size</c>: training samples held out as the server's validation split; 0 for none.</summary>
    public int ValidationSize { get; init; } = 1000;

    /// <summary><c>data.samples</c>: synthetic data only, the number of training samples generated.</summary>
    public int Samples { get; init; } = 10000;

    /// <summary><c>data.features</c>: synthetic data only, the feature dimension.</summary>
    public int Features { get; init; } = 20;

    /// <summary><c>data.noise</c>: synthetic-linear only, σ of the Gaussian noise added to the targets.</summary>
    public double Noise { get; init; } = 0.1;
}
