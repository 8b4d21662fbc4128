using Dstar.Core.Specs;

namespace Dstar.Core.PreAggregation;

/// <summary>The registry entries of every pre-aggregator.</summary>
internal static class PreAggregatorCatalog
{
    public static IEnumerable<CatalogEntry<IPreAggregator>> Entries =>
    [
        new("nnm", "each row becomes the mean of its n−f nearest rows [f=] (n ≥ f+1)", a => new Nnm(a.OptionalInt("f", min: 0))),
    ];
}
