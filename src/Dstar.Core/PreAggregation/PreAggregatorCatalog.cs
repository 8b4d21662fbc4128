using Dstar.Core.Specs;

namespace Dstar.Core.PreAggregation;

/// <summary>The registry entries of every pre-aggregator.</summary>
internal static class PreAggregatorCatalog
{
    public static IEnumerable<CatalogEntry<IPreAggregator>> Entries =>
    [
        new("bucketing", "means of random buckets of s rows [size=2]", a => new Bucketing(a.Int("size", 2, min: 1))),
        new("clip", "static norm clipping: each row scaled to norm ≤ c [c=1]", a => new Clipping(a.Double("c", 1, min: double.Epsilon))),
        new("arc", "adaptive robust clipping: the ⌊2(f/n)(n−f)⌋ largest norms clipped to the next largest [f=]", a => new Arc(a.OptionalInt("f", min: 0))),
        new("nnm", "each row becomes the mean of its n−f nearest rows [f=] (n ≥ f+1)", a => new Nnm(a.OptionalInt("f", min: 0))),
    ];
}
