using Dstar.Core.Specs;

namespace Dstar.Core.Aggregation;

/// <summary>The registry entries of every aggregation rule.</summary>
internal static class RuleCatalog
{
    public static IEnumerable<CatalogEntry<IAggregator>> Entries =>
    [
        new("mean", "arithmetic mean of all rows", _ => new Mean()),
        new("median", "coordinate-wise median", _ => new Median()),
        new("trimmed-mean", "coordinate-wise mean without the f largest and f smallest values [f=]", a => new TrimmedMean(a.OptionalInt("f", min: 0))),
        new("meamed", "coordinate-wise mean of the n−f values closest to the median [f=]", a => new Meamed(a.OptionalInt("f", min: 0))),
        new("centered-clipping", "v ← v + (1/n) Σ clip_τ(xᵢ − v), L times from the previous aggregate [tau=10] [iterations=1]",
            a => new CenteredClipping(a.Double("tau", 10, min: double.Epsilon), a.Int("iterations", 1, min: 1))),
        new("dstar", "dSTAR filter: keep rows with ‖gᵢ − m‖ ≤ τ·δ_ref, average them [tau=2] [center=median|median-of-means|exclude-validation] [bucket=2] [reference=validation|median-deviation] [include-validation=false] [batch-ratio=1]",
            a => new DstarFilter(
                tau: a.Double("tau", 2, min: double.Epsilon),
                center: a.Choice("center", "median", "median", "median-of-means", "exclude-validation") switch
                {
                    "median-of-means" => DstarCenter.MedianOfMeans,
                    "exclude-validation" => DstarCenter.ExcludeValidation,
                    _ => DstarCenter.Median,
                },
                reference: a.Choice("reference", "validation", "validation", "median-deviation") == "validation" ? DstarReference.Validation : DstarReference.MedianDeviation,
                includeValidation: a.Bool("include-validation", false),
                batchRatio: a.Double("batch-ratio", 1, min: double.Epsilon),
                bucketSize: a.Int("bucket", 2, min: 1))),
    ];
}
