using Dstar.Core.Specs;

namespace Dstar.Core.Aggregation;

/// <summary>The registry entries of every aggregation rule.</summary>
internal static class RuleCatalog
{
    public static IEnumerable<CatalogEntry<IAggregator>> Entries =>
    [
        new("mean", "arithmetic mean of all rows", _ => new Mean()),
    ];
}
