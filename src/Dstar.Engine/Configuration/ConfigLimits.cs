namespace Dstar.Engine.Configuration;

/// <summary>
/// The largest value of every size a user controls. Each is refused before the run (by <see cref="ConfigValidator"/>
/// or, for the text itself, <see cref="ConfigLoader"/>) with one line naming the key, the value and the limit, so that
/// a typo cannot start hundreds of threads or allocate until the machine runs out of memory. The bounds are far above
/// any experiment this project runs (docs/config.md lists them).
/// </summary>
public static class ConfigLimits
{
    /// <summary>The largest config file read, in bytes (checked before the file is read, so <c>/dev/zero</c> is refused).</summary>
    public const int MaxDocumentBytes = 1 << 20;

    /// <summary>The most YAML nodes a document may stand for once its aliases are expanded (a "billion laughs" is refused).</summary>
    public const int MaxYamlNodes = 10_000;

    /// <summary>The deepest nesting of YAML mappings and lists.</summary>
    public const int MaxYamlDepth = 32;

    /// <summary>The longest <c>--set</c> argument, in characters.</summary>
    public const int MaxOverrideLength = 4096;

    /// <summary>The longest spec (aggregator, attack, delay, model, partition, one pre-aggregator), in characters.</summary>
    public const int MaxSpecLength = 1024;

    /// <summary>The most pre-aggregators in <c>pre</c>.</summary>
    public const int MaxPreAggregators = 16;

    /// <summary><c>rounds</c>.</summary>
    public const int MaxRounds = 10_000_000;

    /// <summary><c>workers</c> (N).</summary>
    public const int MaxWorkers = 4096;

    /// <summary><c>batch_size</c> and <c>validation_batch_size</c>.</summary>
    public const int MaxBatchSize = 65_536;

    /// <summary><c>data.validation_size</c>.</summary>
    public const int MaxValidationSize = 10_000_000;

    /// <summary><c>data.samples</c>.</summary>
    public const int MaxSamples = 10_000_000;

    /// <summary><c>data.features</c> (the synthetic problems' d is about this).</summary>
    public const int MaxFeatures = 1_000_000;

    /// <summary><c>data.samples</c> × <c>data.features</c>: the synthetic data set's floats (400 MB).</summary>
    public const long MaxSyntheticValues = 100_000_000;

    /// <summary>
    /// <c>threads</c>: four per core of this machine. More only queue for the same cores; many more (a typo such as
    /// 100000) would start that many threads.
    /// </summary>
    public static int MaxThreads => 4 * Environment.ProcessorCount;
}
