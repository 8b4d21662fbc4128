using System.Globalization;
using Dstar.Engine.Configuration;
using Dstar.Learning;

namespace Dstar.Engine.Workers;

/// <summary>Turns an experiment's <c>data.*</c>, <c>model</c>, <c>workers</c> and <c>seed</c> keys into a Learning <see cref="Workload"/>.</summary>
public static class WorkloadFactory
{
    /// <summary>The data-set spec for <paramref name="data"/>: the name, plus the generator's parameters for synthetic data.</summary>
    public static string DatasetSpec(DataConfig data, int seed)
    {
        var c = CultureInfo.InvariantCulture;
        return data.Name switch
        {
            "synthetic-logistic" => string.Create(c, $"synthetic-logistic samples={data.Samples} test={Math.Max(500, data.Samples / 5)} dimension={data.Features} seed={seed}"),
            "synthetic-linear" => string.Create(c, $"synthetic-linear samples={data.Samples} test={Math.Max(500, data.Samples / 5)} dimension={data.Features} noise={data.Noise:R} seed={seed}"),
            _ => data.Name,
        };
    }

    /// <summary>Loads the data, holds out the validation split, partitions the rest and builds the model's oracle.</summary>
    /// <exception cref="ArgumentException">the data cannot feed this many workers, or the model does not fit the data.</exception>
    public static Workload Create(ExperimentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Workload.Create(new WorkloadOptions
        {
            Dataset = DatasetSpec(config.Data, config.Seed),
            DataDirectory = config.Data.Dir,
            Model = config.Model,
            Partition = config.Data.Partition,
            Workers = config.Workers,
            ValidationSamples = config.Data.ValidationSize,
            Seed = config.Seed,
            Threads = config.Threads,
        });
    }
}
