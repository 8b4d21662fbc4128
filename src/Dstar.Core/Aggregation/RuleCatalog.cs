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
        new("dstar", "dSTAR filter: keep rows with ‖gᵢ − m‖ ≤ τ·δ_ref, average them [tau=2] [center=median|median-of-means|exclude-validation|validation] [bucket=2] [reference=validation|median-deviation|quantile] [quantile=0.5] [include-validation=false] [batch-ratio=1]; ours, off by default: [direction=c] [scale=ρ] [scale-mode=drop|clip] [duplicates=ε] [mean=plain|clipped] [reputation=λ] [exclude=0.5] [probation=20]",
            DstarSpec.Create),
        new("dstar-plus", "ours: the dstar filter with the dSTAR+ defaults direction=0 duplicates=0.05 reference=quantile scale=2 scale-mode=clip mean=clipped (docs/method.md, Robust dSTAR); takes every dstar option",
            DstarSpec.CreatePlus),
        new("krum", "the row with the lowest Krum score [f=] (n ≥ 2f+3)", a => new Krum(a.OptionalInt("f", min: 0))),
        new("multi-krum", "mean of the m rows with the lowest Krum scores [f=] [m=n−f] (n ≥ 2f+3)", a => new MultiKrum(a.OptionalInt("f", min: 0), a.OptionalInt("m", min: 1))),
        new("bulyan", "repeated Krum picks n−2f rows, then per coordinate the mean of the n−4f closest to the median [f=] (n ≥ 4f+3)", a => new Bulyan(a.OptionalInt("f", min: 0))),
        new("geometric-median", "smoothed Weiszfeld geometric median [nu=1e-6] [tol=1e-6] [iterations=100]", a => new GeometricMedian(a.Double("nu", 1e-6, min: double.Epsilon), a.Double("tol", 1e-6, min: 0), a.Int("iterations", 100, min: 1))),
        new("mda", "mean of the n−f rows of smallest diameter, exact [f=] [max-subsets=1000000] (n ≥ 2f+1)", a => new Mda(a.OptionalInt("f", min: 0), a.Int("max-subsets", 1_000_000, min: 1))),
        new("fltrust", "rows weighted by ReLU(cos(x, g₀)) and rescaled to ‖g₀‖ (needs the validation gradient)", _ => new FlTrust()),
        new("zeno", "mean of the n−b rows that lower the validation loss most [b=f] [rho=0.0005] [gamma=0.1]", a => new Zeno(a.OptionalInt("b", min: 0), a.Double("rho", 0.0005, min: 0), a.Double("gamma", 0.1, min: double.Epsilon))),
    ];
}
