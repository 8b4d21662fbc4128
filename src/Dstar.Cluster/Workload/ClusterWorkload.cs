using Dstar.Cluster.Configuration;
using Dstar.Engine.Server;

namespace Dstar.Cluster.Workload;

/// <summary>
/// Everything a process rebuilds from the config alone: the synthetic task (same seed → same data on every host),
/// the workers' shards, the server's validation split and x₀. Training samples 0..samples−1 are shared among the
/// workers; samples..samples+validation−1 are the server's trusted validation split, held out from every worker.
/// </summary>
public static class ClusterWorkload
{
    /// <summary>The size of the server's validation split.</summary>
    public const int ValidationSamples = 1000;

    /// <summary>The task's oracle (a fresh instance; each owner sets its own parameters).</summary>
    public static SyntheticLogisticRegression CreateOracle(ClusterConfig config) =>
        new(config.Features, config.Samples + ValidationSamples, config.Seed);

    /// <summary>d: the model's parameter count.</summary>
    public static int Dimension(ClusterConfig config) => config.Features + 1;

    /// <summary>Worker <paramref name="workerId"/>'s shard.</summary>
    public static WorkerShard Shard(ClusterConfig config, int workerId) =>
        new(workerId, config.Workers, config.Samples, config.Seed);

    /// <summary>The server's validation split (batch size = the worker batch, so batch-ratio is 1).</summary>
    public static ValidationSet Validation(ClusterConfig config, SyntheticLogisticRegression oracle) =>
        new(oracle, Enumerable.Range(config.Samples, ValidationSamples).ToArray(), config.Batch);

    /// <summary>x₀ = 0 (logistic regression is convex; zero is the usual start).</summary>
    public static float[] InitialParameters(ClusterConfig config) => new float[Dimension(config)];
}
