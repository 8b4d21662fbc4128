using Dstar.Core.Specs;

namespace Dstar.Core.PreAggregation;

/// <summary>The registry entries of every pre-aggregator.</summary>
internal static class PreAggregatorCatalog
{
    public static IEnumerable<CatalogEntry<IPreAggregator>> Entries => [];
}
