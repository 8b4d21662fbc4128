using Dstar.Core.Specs;

namespace Dstar.Core.Aggregation;

/// <summary>The registry entries of every aggregation rule.</summary>
internal static class RuleCatalog
{
    public static IEnumerable<CatalogEntry<IAggregator>> Entries =>
    [
        new("mean", "arithmetic mean of all rows", _ => new Mean()),
        new("krum", "the row with the lowest Krum score [f=] (n ≥ 2f+3)", a => new Krum(a.OptionalInt("f", min: 0))),
        new("multi-krum", "mean of the m rows with the lowest Krum scores [f=] [m=n−f] (n ≥ 2f+3)", a => new MultiKrum(a.OptionalInt("f", min: 0), a.OptionalInt("m", min: 1))),
        new("bulyan", "repeated Krum picks n−2f rows, then per coordinate the mean of the n−4f closest to the median [f=] (n ≥ 4f+3)", a => new Bulyan(a.OptionalInt("f", min: 0))),
        new("geometric-median", "smoothed Weiszfeld geometric median [nu=1e-6] [tol=1e-6] [iterations=100]", a => new GeometricMedian(a.Double("nu", 1e-6, min: double.Epsilon), a.Double("tol", 1e-6, min: 0), a.Int("iterations", 100, min: 1))),
        new("mda", "mean of the n−f rows of smallest diameter, exact [f=] [max-subsets=1000000] (n ≥ 2f+1)", a => new Mda(a.OptionalInt("f", min: 0), a.Int("max-subsets", 1_000_000, min: 1))),
        new("fltrust", "rows weighted by ReLU(cos(x, g₀)) and rescaled to ‖g₀‖ (needs the validation gradient)", _ => new FlTrust()),
        new("zeno", "mean of the n−b rows that lower the validation loss most [b=f] [rho=0.0005] [gamma=0.1]", a => new Zeno(a.OptionalInt("b", min: 0), a.Double("rho", 0.0005, min: 0), a.Double("gamma", 0.1, min: double.Epsilon))),
    ];
}
