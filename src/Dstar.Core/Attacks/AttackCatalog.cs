using Dstar.Core.Specs;

namespace Dstar.Core.Attacks;

/// <summary>The registry entries of every attack.</summary>
internal static class AttackCatalog
{
    public static IEnumerable<CatalogEntry<IAttack>> Entries => [];
}
