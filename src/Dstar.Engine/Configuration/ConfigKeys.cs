using System.Globalization;

namespace Dstar.Engine.Configuration;

/// <summary>
/// Every configuration key: its name, what it means, how its text becomes a field of <see cref="ExperimentConfig"/>,
/// and how the field is written back. The one table that loading, overriding and saving share.
/// </summary>
public static class ConfigKeys
{
    /// <summary>One key. <see cref="Read"/> throws <see cref="FormatException"/> naming the expected type.</summary>
    public sealed record Key(
        string Name,
        string Meaning,
        Func<ExperimentConfig, ConfigValue, ExperimentConfig> Read,
        Func<ExperimentConfig, ConfigValue> Write);

    /// <summary>Every key, in the order the resolved config is written.</summary>
    public static IReadOnlyList<Key> All { get; } =
    [
        new("seed", "seed of every random stream", (c, v) => c with { Seed = Int(v) }, c => Scalar(c.Seed)),
        new("rounds", "optimizer steps", (c, v) => c with { Rounds = Int(v, ConfigLimits.MaxRounds) }, c => Scalar(c.Rounds)),
        new("eval_every", "test-set evaluation period in rounds", (c, v) => c with { EvalEvery = Int(v) }, c => Scalar(c.EvalEvery)),
        new("data.name", "fashion-mnist | mnist | cifar10 | synthetic-logistic | synthetic-linear", (c, v) => c with { Data = c.Data with { Name = Text(v) } }, c => Scalar(c.Data.Name)),
        new("data.dir", "data directory (empty: DSTAR_DATA, the Debian package, then the bundled sample)", (c, v) => c with { Data = c.Data with { Dir = OptionalText(v) } }, c => Scalar(c.Data.Dir)),
        new("data.partition", "partition spec: iid | dirichlet alpha=0.5 | shards per-worker=2 | gamma-similarity gamma=0.5", (c, v) => c with { Data = c.Data with { Partition = Text(v) } }, c => Scalar(c.Data.Partition)),
        new("data.validation_size", "training samples held out as the server's validation split", (c, v) => c with { Data = c.Data with { ValidationSize = Int(v, ConfigLimits.MaxValidationSize) } }, c => Scalar(c.Data.ValidationSize)),
        new("data.samples", "synthetic: training samples generated", (c, v) => c with { Data = c.Data with { Samples = Int(v, ConfigLimits.MaxSamples) } }, c => Scalar(c.Data.Samples)),
        new("data.features", "synthetic: feature dimension", (c, v) => c with { Data = c.Data with { Features = Int(v, ConfigLimits.MaxFeatures) } }, c => Scalar(c.Data.Features)),
        new("data.noise", "synthetic-linear: σ of the Gaussian target noise", (c, v) => c with { Data = c.Data with { Noise = Double(v) } }, c => Scalar(c.Data.Noise)),
        new("model", "model spec: logreg | linreg | mlp hidden=128 | small-cnn | resnet18", (c, v) => c with { Model = Text(v) }, c => Scalar(c.Model)),
        new("workers", "N, the number of workers", (c, v) => c with { Workers = Int(v, ConfigLimits.MaxWorkers) }, c => Scalar(c.Workers)),
        new("k", "gradients the server waits for each round, or auto (chosen each round in k_min..k_max)", ReadK, c => c.AutoK ? Scalar("auto") : Scalar(c.K)),
        new("byzantine", "f, Byzantine workers (the last f ids)", (c, v) => c with { Byzantine = Int(v) }, c => Scalar(c.Byzantine)),
        new("attack", "attack spec, or label-flip (empty: none)", (c, v) => c with { Attack = OptionalText(v) }, c => Scalar(c.Attack)),
        new("attack_timing", "fast | honest", (c, v) => c with { AttackTiming = Text(v) }, c => Scalar(c.AttackTiming)),
        new("aggregator", "rule spec", (c, v) => c with { Aggregator = Text(v) }, c => Scalar(c.Aggregator)),
        new("pre", "list of pre-aggregator specs", (c, v) => c with { Pre = List(v) }, c => new ConfigValue(null, c.Pre)),
        new("delay", "delay-model spec", (c, v) => c with { Delay = Text(v) }, c => Scalar(c.Delay)),
        new("deadline", "seconds after publish (empty: none)", (c, v) => c with { Deadline = OptionalDouble(v) }, c => Scalar(c.Deadline)),
        new("k_min", "gradients needed to close at the deadline (empty: ceil(k/2)+1); with k: auto, the least k", (c, v) => c with { KMin = OptionalInt(v) }, c => Scalar(c.KMin)),
        new("k_max", "with k: auto, the largest k (empty: workers)", (c, v) => c with { KMax = OptionalInt(v) }, c => Scalar(c.KMax)),
        new("lr", "learning rate", (c, v) => c with { LearningRate = Double(v) }, c => Scalar(c.LearningRate)),
        new("momentum", "heavy-ball momentum in [0, 1)", (c, v) => c with { Momentum = Double(v) }, c => Scalar(c.Momentum)),
        new("worker_momentum", "β of worker momentum: honest workers send m ← (1−β)g + βm (0: plain gradients)", (c, v) => c with { WorkerMomentum = Double(v) }, c => Scalar(c.WorkerMomentum)),
        new("weight_decay", "L2 weight decay", (c, v) => c with { WeightDecay = Double(v) }, c => Scalar(c.WeightDecay)),
        new("batch_size", "each worker's minibatch size b", (c, v) => c with { BatchSize = Int(v, ConfigLimits.MaxBatchSize) }, c => Scalar(c.BatchSize)),
        new("validation_batch_size", "the server's validation minibatch b_v (empty: batch_size)", (c, v) => c with { ValidationBatchSize = OptionalInt(v, ConfigLimits.MaxBatchSize) }, c => Scalar(c.ValidationBatchSize)),
        new("checkpoint_every", "checkpoint period in rounds (0: only after the last round and on interruption)", (c, v) => c with { CheckpointEvery = Int(v) }, c => Scalar(c.CheckpointEvery)),
        new("threads", "TorchSharp threads and rule parallelism", (c, v) => c with { Threads = Int(v, ConfigLimits.MaxThreads) }, c => Scalar(c.Threads)),
        new("simulation.parallel", "threads computing a simulated round's worker gradients: auto (this process's share of the cores, at most N) or a count; the metrics are identical for every count",
            ReadParallel, c => c.SimulationParallel is { } p ? Scalar(p) : Scalar("auto")),
        new("wire", "gradient encoding on the wire: float32 | bfloat16 | float16 (the simulator rounds through the same codec)", (c, v) => c with { Wire = Text(v) }, c => Scalar(c.Wire)),
    ];

    private static ExperimentConfig ReadK(ExperimentConfig c, ConfigValue v) =>
        v.Scalar?.Trim() == "auto"
            ? c with { AutoK = true }
            : int.TryParse(v.Scalar, NumberStyles.Integer, CultureInfo.InvariantCulture, out var k)
                ? c with { K = k, AutoK = false }
                : throw new FormatException("expected an integer or auto");

    private static ExperimentConfig ReadParallel(ExperimentConfig c, ConfigValue v) =>
        v.Scalar?.Trim() is "auto" or null or "" ? c with { SimulationParallel = null } : c with { SimulationParallel = Int(v, ConfigLimits.MaxThreads) };

    private static ConfigValue Scalar(object? value) => new(value switch
    {
        null => null,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    }, null);

    private static string Text(ConfigValue v) =>
        string.IsNullOrWhiteSpace(v.Scalar) ? throw new FormatException("expected a non-empty text") : v.Scalar.Trim();

    private static string? OptionalText(ConfigValue v) =>
        v.List is not null ? throw new FormatException("expected a text, not a list")
        : string.IsNullOrWhiteSpace(v.Scalar) || v.Scalar.Trim() is "null" or "none" or "~" ? null : v.Scalar.Trim();

    // An integer beyond int's range is still an integer: say it is too large and give the key's limit, which the
    // validator checks again for values that do fit in an int.
    private static int Int(ConfigValue v, int limit = int.MaxValue)
    {
        if (int.TryParse(v.Scalar, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i))
        {
            return i;
        }

        var text = v.Scalar?.Trim() ?? "";
        var digits = text.TrimStart('+', '-');
        if (digits.Length > 0 && text.Length - digits.Length <= 1 && digits.All(char.IsAsciiDigit))
        {
            throw new FormatException(text[0] != '-'
                ? string.Create(CultureInfo.InvariantCulture, $"too large: the limit is {limit}")
                : string.Create(CultureInfo.InvariantCulture, $"too small: the smallest integer is {int.MinValue}"));
        }

        throw new FormatException("expected an integer");
    }

    private static int? OptionalInt(ConfigValue v, int limit = int.MaxValue) => OptionalText(v) is null ? null : Int(v, limit);

    private static double Double(ConfigValue v) =>
        double.TryParse(v.Scalar, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
            ? d
            : throw new FormatException("expected a finite number");

    private static double? OptionalDouble(ConfigValue v) => OptionalText(v) is null ? null : Double(v);

    private static IReadOnlyList<string> List(ConfigValue v) =>
        v.List ?? (OptionalText(v) is { } one ? [one] : Array.Empty<string>());
}

/// <summary>A raw configuration value: a scalar text, or a list of texts.</summary>
/// <param name="Scalar">The scalar (null for a list or an empty value).</param>
/// <param name="List">The list items, or null for a scalar.</param>
public readonly record struct ConfigValue(string? Scalar, IReadOnlyList<string>? List)
{
    /// <summary>The value as a person would write it.</summary>
    public override string ToString() => List is not null ? "[" + string.Join(", ", List) + "]" : Scalar ?? "";
}
