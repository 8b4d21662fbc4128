using Dstar.Core;
using Dstar.Core.Optimization;
using Dstar.Engine.Configuration;
using Dstar.Learning;

namespace Dstar.Engine.Server;

/// <summary>
/// Builds the parameter server of an experiment. The simulator and the gRPC cluster both call this, so that a run in
/// either one has the same server: options, starting point, pipeline, optimizer, validation set and evaluation.
/// </summary>
public static class ParameterServerFactory
{
    /// <summary>
    /// The server for <paramref name="config"/> over <paramref name="workload"/>'s oracle and held-out split, with the
    /// given pipeline. Evaluation loads x into the shared oracle and runs it on the test set, unless
    /// <paramref name="evaluator"/> (the same evaluation, spread over threads) is given.
    /// </summary>
    public static ParameterServer Create(ExperimentConfig config, Workload workload, AggregationPipeline pipeline, Func<ReadOnlyMemory<float>, Evaluation>? evaluator = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(workload);
        var oracle = workload.Oracle;
        return new ParameterServer(
            new ParameterServerOptions
            {
                WorkerCount = config.Workers,
                K = config.KCapacity,
                AutoK = config.AutoK,
                ByzantineCount = config.Byzantine,
                Deadline = config.Deadline,
                MinimumCount = config.KMin,
                Seed = config.Seed,
                MaxDegreeOfParallelism = config.Threads,
            },
            workload.InitialParameters,
            pipeline,
            new Sgd(oracle.ParameterCount, config.LearningRate, config.Momentum, config.WeightDecay),
            config.Data.ValidationSize > 0 ? new ValidationSet(oracle, workload.Validation, config.EffectiveValidationBatchSize) : null,
            evaluator ?? (x =>
            {
                oracle.SetParameters(x.Span);
                return oracle.Evaluate();
            }));
    }
}
