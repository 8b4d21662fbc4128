using Dstar.Core.Specs;

namespace Dstar.Core.Stragglers;

/// <summary>The registry entries of every delay model.</summary>
internal static class DelayCatalog
{
    public static IEnumerable<CatalogEntry<IDelayModel>> Entries => [];
}
