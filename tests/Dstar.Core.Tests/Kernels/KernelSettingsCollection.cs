using Xunit;

namespace Dstar.Core.Tests.Kernels;

/// <summary>
/// Tests that override <see cref="Dstar.Core.Kernels.KernelSettings"/> (process-wide switches) run here, one at a time
/// and never beside another test, so no other test sees a kernel path it did not ask for.
/// </summary>
[CollectionDefinition(nameof(KernelSettingsCollection), DisableParallelization = true)]
public class KernelSettingsCollection
{
}
