using System.Globalization;
using Dstar.Core;
using Dstar.Core.Specs;
using Dstar.Engine.Transport;
using Dstar.Learning.Oracle;

namespace Dstar.Engine.Configuration;

/// <summary>
/// The one place an <see cref="ExperimentConfig"/> is checked. Every problem is reported (not only the first), each
/// naming its key, the value given and what is needed. Specs are built once through <see cref="Registry"/> so that an
/// unknown rule, attack, delay model or parameter is caught before the run starts.
/// </summary>
public static class ConfigValidator
{
    /// <summary>The data sets the simulator can load.</summary>
    public static IReadOnlyList<string> DataNames { get; } = ["fashion-mnist", "mnist", "cifar10", "synthetic-logistic", "synthetic-linear"];

    /// <summary>The attack name handled by the simulator itself rather than the attack registry (a data-level attack).</summary>
    public const string LabelFlip = "label-flip";

    /// <summary>Every problem with <paramref name="c"/>; empty when it is valid.</summary>
    public static IReadOnlyList<ConfigError> Validate(ExperimentConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var errors = new List<ConfigError>();
        void Need(bool ok, string key, object? value, string problem)
        {
            if (!ok)
            {
                errors.Add(new ConfigError(key, Format(value), problem));
            }
        }

        Need(c.Rounds >= 1, "rounds", c.Rounds, "must be ≥ 1");
        Need(c.Rounds <= ConfigLimits.MaxRounds, "rounds", c.Rounds, $"too large: the limit is {ConfigLimits.MaxRounds}");
        Need(c.EvalEvery >= 1, "eval_every", c.EvalEvery, "must be ≥ 1");
        Need(c.Workers >= 1, "workers", c.Workers, "must be ≥ 1");
        Need(c.Workers <= ConfigLimits.MaxWorkers, "workers", c.Workers, $"too large: the limit is {ConfigLimits.MaxWorkers}");
        Need(c.AutoK || (c.K >= 1 && c.K <= c.Workers), "k", c.K, $"must be in 1..workers = {c.Workers}, or auto");
        Need(c.KMax is null || c.AutoK, "k_max", c.KMax, "only matters with k: auto; set k: auto too");
        Need(c.KMax is null || (c.KMax >= 1 && c.KMax <= c.Workers), "k_max", c.KMax, $"must be in 1..workers = {c.Workers}");
        Need(c.Byzantine >= 0 && c.Byzantine < c.Workers, "byzantine", c.Byzantine, $"must be in 0..workers−1 = {c.Workers - 1} (at least one honest worker)");
        Need(c.AttackTiming is "fast" or "honest", "attack_timing", c.AttackTiming, "must be fast or honest");
        Need(WireFormats.Names.Contains(c.Wire), "wire", c.Wire, $"must be one of {string.Join(", ", WireFormats.Names)}");
        Need(c.Byzantine == 0 || c.Attack is not null, "attack", c.Attack, $"byzantine = {c.Byzantine} needs an attack spec (or byzantine = 0)");
        Need(c.Deadline is null || (c.Deadline > 0 && double.IsFinite(c.Deadline.Value)), "deadline", c.Deadline, "must be a positive number of seconds, or empty for none");
        Need(c.KMin is null || (c.KMin >= 1 && c.KMin <= c.KCapacity), "k_min", c.KMin, c.AutoK ? $"must be in 1..k_max = {c.KCapacity}" : $"must be in 1..k = {c.K}");
        Need(c.KMin is null || c.Deadline is not null || c.AutoK, "k_min", c.KMin, "only matters with a deadline or k: auto; set one of them too");
        Need(c.LearningRate > 0, "lr", c.LearningRate, "must be > 0");
        Need(c.Momentum >= 0 && c.Momentum < 1, "momentum", c.Momentum, "must be in [0, 1)");
        Need(c.WorkerMomentum >= 0 && c.WorkerMomentum < 1, "worker_momentum", c.WorkerMomentum, "must be in [0, 1)");
        Need(c.WeightDecay >= 0, "weight_decay", c.WeightDecay, "must be ≥ 0");
        Need(c.BatchSize >= 1, "batch_size", c.BatchSize, "must be ≥ 1");
        Need(c.BatchSize <= ConfigLimits.MaxBatchSize, "batch_size", c.BatchSize, $"too large: the limit is {ConfigLimits.MaxBatchSize}");
        Need(c.ValidationBatchSize is null || c.ValidationBatchSize >= 1, "validation_batch_size", c.ValidationBatchSize, "must be ≥ 1");
        Need(c.ValidationBatchSize is null || c.ValidationBatchSize <= ConfigLimits.MaxBatchSize, "validation_batch_size", c.ValidationBatchSize,
            $"too large: the limit is {ConfigLimits.MaxBatchSize}");
        Need(c.CheckpointEvery >= 0, "checkpoint_every", c.CheckpointEvery, "must be ≥ 0 (0: checkpoints only after the last round and on interruption)");
        Need(c.Threads >= 1, "threads", c.Threads, "must be ≥ 1");
        Need(c.Threads <= ConfigLimits.MaxThreads, "threads", c.Threads,
            $"too large: the limit is {ConfigLimits.MaxThreads} (4 per core; this machine has {Environment.ProcessorCount})");
        Need(c.SimulationParallel is null || c.SimulationParallel >= 1, "simulation.parallel", c.SimulationParallel, "must be ≥ 1, or auto");
        Need(c.SimulationParallel is null || c.SimulationParallel <= ConfigLimits.MaxThreads, "simulation.parallel", c.SimulationParallel,
            $"too large: the limit is {ConfigLimits.MaxThreads} (4 per core; this machine has {Environment.ProcessorCount})");
        if (TorchThreads.CheckEnvironment() is { } torchThreads)
        {
            errors.Add(new ConfigError(TorchThreads.EnvironmentVariable, Environment.GetEnvironmentVariable(TorchThreads.EnvironmentVariable) ?? "", torchThreads));
        }

        var d = c.Data;
        Need(DataNames.Contains(d.Name), "data.name", d.Name, "must be one of " + string.Join(", ", DataNames));
        Need(d.ValidationSize >= 0, "data.validation_size", d.ValidationSize, "must be ≥ 0");
        Need(d.ValidationSize <= ConfigLimits.MaxValidationSize, "data.validation_size", d.ValidationSize, $"too large: the limit is {ConfigLimits.MaxValidationSize}");
        Need(d.Samples >= 1, "data.samples", d.Samples, "must be ≥ 1");
        Need(d.Samples <= ConfigLimits.MaxSamples, "data.samples", d.Samples, $"too large: the limit is {ConfigLimits.MaxSamples}");
        Need(d.Features >= 1, "data.features", d.Features, "must be ≥ 1");
        Need(d.Features <= ConfigLimits.MaxFeatures, "data.features", d.Features, $"too large: the limit is {ConfigLimits.MaxFeatures}");
        Need(!d.Name.StartsWith("synthetic", StringComparison.Ordinal) || (long)d.Samples * d.Features <= ConfigLimits.MaxSyntheticValues, "data.samples",
            d.Samples, $"data.samples × data.features = {(long)d.Samples * d.Features} values: the limit is {ConfigLimits.MaxSyntheticValues}");
        Need(c.Pre.Count <= ConfigLimits.MaxPreAggregators, "pre", c.Pre.Count, $"too many pre-aggregators: the limit is {ConfigLimits.MaxPreAggregators}");
        Need(d.Noise >= 0, "data.noise", d.Noise, "must be ≥ 0");
        CheckSpec(errors, "data.partition", d.Partition, spec =>
        {
            Learning.Partitioning.PartitionerCatalog.Partitioners.Create(spec);
            return null;
        });
        CheckSpec(errors, "model", c.Model, spec =>
        {
            Learning.Models.ModelCatalog.Models.Create(spec);
            return null;
        });
        if (c.SimulationParallel > 1 && ModelHasRunningState(c.Model))
        {
            errors.Add(new ConfigError("simulation.parallel", Format(c.SimulationParallel),
                $"model '{c.Model}' updates BatchNorm running statistics with every gradient, in the order they are computed, so its gradients run on one thread: use 1 or auto (or model resnet18 norm=group)"));
        }

        CheckSpec(errors, "aggregator", c.Aggregator, spec =>
        {
            var rule = Registry.Rules.Create(spec);
            if (d.ValidationSize == 0 && rule.MissingValidationGradient(c.Workers, 0) is { } missing)
            {
                return $"{missing}: set data.validation_size ≥ 1, the training samples the server holds out to compute g₀ on";
            }

            if (c.AutoK)
            {
                return CheckAutoK(c, rule, d.ValidationSize > 0, errors);
            }

            return rule.CheckRequirements(c.K, c.Byzantine, d.ValidationSize > 0) is { } why
                ? $"cannot run on the first k = {c.K} gradients with f = {c.Byzantine}: {why}"
                : null;
        });
        for (int i = 0; i < c.Pre.Count; i++)
        {
            CheckSpec(errors, $"pre[{i}]", c.Pre[i], spec =>
            {
                Registry.PreAggregators.Create(spec);
                return null;
            });
        }

        CheckSpec(errors, "delay", c.Delay, spec =>
        {
            Registry.Delays.Create(spec, DiskSpecFiles.Instance);
            return null;
        });
        // Checked whatever byzantine is: a spec that would fail with byzantine = 3 is as wrong with byzantine = 0.
        if (c.Attack is not null)
        {
            CheckSpec(errors, "attack", c.Attack, spec =>
            {
                if (spec.Name != LabelFlip || spec.Parameters.Count > 0)
                {
                    Registry.Attacks.Create(spec);
                }

                return null;
            });
        }

        return errors;
    }

    /// <summary>
    /// k: auto: the floor (k_min, the rule's least n, 3f) must not exceed k_max, and a k_min given below the rule's
    /// least n is refused rather than raised silently.
    /// </summary>
    /// <summary>Whether the model spec names a model with running state (BatchNorm); false for a spec that does not parse (reported elsewhere).</summary>
    internal static bool ModelHasRunningState(string model)
    {
        try
        {
            return Learning.Models.ModelCatalog.Models.Create(model).HasRunningState;
        }
        catch (SpecException)
        {
            return false;
        }
    }

    private static string? CheckAutoK(ExperimentConfig c, Core.IAggregator rule, bool hasValidation, List<ConfigError> errors)
    {
        if (c.KMax is { } m && (m < 1 || m > c.Workers))
        {
            return null;
        }

        var (floor, why) = Server.AdaptiveK.FloorFor(c.KMin, c.Byzantine, n => rule.CheckRequirements(n, c.Byzantine, hasValidation) is null, c.Workers);
        var (ruleFloor, _) = Server.AdaptiveK.FloorFor(null, 0, n => rule.CheckRequirements(n, c.Byzantine, hasValidation) is null, c.Workers);
        if (c.KMin is { } kMin && kMin < ruleFloor)
        {
            errors.Add(new ConfigError("k_min", Format(kMin), $"with k: auto must be ≥ {ruleFloor}, the least n '{rule.Name}' runs on with f = {c.Byzantine}"));
        }

        return floor > c.KCapacity
            ? $"k: auto cannot pick any k: the floor is {floor} ({why}), above k_max = {c.KCapacity}"
            : null;
    }

    private static void CheckSpec(List<ConfigError> errors, string key, string text, Func<Spec, string?> check)
    {
        if (text.Length > ConfigLimits.MaxSpecLength)
        {
            errors.Add(new ConfigError(key, text, $"a spec of {text.Length} characters: the limit is {ConfigLimits.MaxSpecLength}"));
            return;
        }

        try
        {
            var spec = Spec.Parse(text);
            if (check(spec) is { } why)
            {
                errors.Add(new ConfigError(key, text, why));
            }
        }
        catch (SpecException e)
        {
            errors.Add(new ConfigError(key, text, e.Message));
        }
    }

    private static string Format(object? value) => value switch
    {
        null => "",
        double x => x.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
