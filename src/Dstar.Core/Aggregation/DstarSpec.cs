using Dstar.Core.Specs;

namespace Dstar.Core.Aggregation;

/// <summary>Builds <see cref="DstarFilter"/> from its registry spec (options as docs/method.md names them).</summary>
internal static class DstarSpec
{
    /// <summary>
    /// <c>dstar</c> is the paper's rule; <c>dstar-plus</c> is ours, the same filter with other defaults — the variant the
    /// dSTAR+ ablation chose (docs/method.md, "Robust dSTAR"): direction=0 duplicates=0.05 reference=quantile scale=2
    /// scale-mode=clip mean=clipped. Every option can still be given explicitly.
    /// </summary>
    public static IAggregator Create(SpecArguments a) => Create(a, plus: false);

    /// <summary><c>dstar-plus</c>: <see cref="Create(SpecArguments)"/> with our defaults.</summary>
    public static IAggregator CreatePlus(SpecArguments a) => Create(a, plus: true);

    private static IAggregator Create(SpecArguments a, bool plus)
    {
        var center = a.Choice("center", "median", "median", "median-of-means", "exclude-validation", "validation") switch
        {
            "median-of-means" => DstarCenter.MedianOfMeans,
            "exclude-validation" => DstarCenter.ExcludeValidation,
            "validation" => DstarCenter.Validation,
            _ => DstarCenter.Median,
        };
        var reference = a.Choice("reference", plus ? "quantile" : "validation", "validation", "median-deviation", "quantile") switch
        {
            "median-deviation" => DstarReference.MedianDeviation,
            "quantile" => DstarReference.Quantile,
            _ => DstarReference.Validation,
        };
        if (center == DstarCenter.Validation && reference == DstarReference.Validation)
        {
            throw a.Fail("reference", "validation", "median-deviation or quantile with center=validation (δ₀ is then 0)");
        }

        double decay = a.Double("reputation", 0, min: 0, max: 1 - 1e-9);
        double threshold = a.Double("exclude", 0.5, min: 0, max: 1 - 1e-9);
        int probation = a.Int("probation", 20, min: 1);
        var reputation = decay > 0 ? new WorkerReputation(decay, threshold, probation) : null;

        return new DstarFilter(
            tau: a.Double("tau", 2, min: double.Epsilon),
            center: center,
            reference: reference,
            includeValidation: a.Bool("include-validation", false),
            batchRatio: a.Double("batch-ratio", 1, min: double.Epsilon),
            bucketSize: a.Int("bucket", 2, min: 1),
            quantile: a.Double("quantile", 0.5, min: 0, max: 1),
            direction: a.Double("direction", plus ? 0 : double.NegativeInfinity, min: -1, max: 1),
            scale: a.Double("scale", plus ? 2 : double.PositiveInfinity, min: double.Epsilon),
            scaleMode: a.Choice("scale-mode", plus ? "clip" : "drop", "drop", "clip") == "clip" ? DstarScaleMode.Clip : DstarScaleMode.Drop,
            duplicates: a.Double("duplicates", plus ? 0.05 : 0, min: 0, max: 0.999),
            mean: a.Choice("mean", plus ? "clipped" : "plain", "plain", "clipped") == "clipped" ? DstarMean.Clipped : DstarMean.Plain,
            reputation: reputation);
    }
}
