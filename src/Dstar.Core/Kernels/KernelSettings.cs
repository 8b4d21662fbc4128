using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dstar.Core.Kernels;

/// <summary>
/// The process-wide switches of the kernels, in one place. Their defaults are what every run uses; tests change them to
/// cover the paths other hardware takes, and benchmarks to tune them, always through <see cref="Override"/>.
/// </summary>
/// <remarks>
/// The settings are global and read without locks, so an override is visible to every thread: tests that override them
/// belong to the non-parallel test collection. Compiled ranges (<see cref="UnrolledNetworks"/>) are cached by shape,
/// and the prefetch distance is baked into a range when it is first emitted, so change
/// <see cref="PrefetchFloats"/> before the first aggregation of a process.
/// </remarks>
internal static class KernelSettings
{
    /// <summary>The widest register the column and Gram kernels may use, in floats (16, 8 or 1).</summary>
    public static int WidthLimit { get; private set; } = ColumnTiles.MaxWidth;

    /// <summary>Whether comparator networks and row passes are compiled for AVX-512 (see <see cref="UnrolledNetworks"/>).</summary>
    public static bool UnrolledNetworks { get; private set; } = Vector512.IsHardwareAccelerated && RuntimeFeature.IsDynamicCodeCompiled;

    /// <summary>Fewest rows for which a compiled trimmed mean tracks the extremes instead of running the rank network.</summary>
    public static int ExtremesMinRows { get; private set; } = 24;

    /// <summary>
    /// Software prefetch distance for the row streams, in floats ahead of the current block (0 turns it off). With
    /// many rows read side by side (n streams 4·d bytes apart) the hardware prefetchers lose track; touching each row a
    /// few blocks ahead keeps the loads from waiting on memory.
    /// </summary>
    public static int PrefetchFloats { get; private set; } = 256;

    /// <summary>
    /// True to run the AVX-512 Gram pass on the batch rows where they lie, centring in registers; false for the
    /// copy-into-a-tile pass that other hardware uses.
    /// </summary>
    public static bool CenterInRegisters { get; private set; } = true;

    /// <summary>
    /// Sets the given switches until the returned scope is disposed, which restores the values they had before.
    /// Switches left null keep their current value.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">widthLimit is not 16, 8 or 1, or a count is negative.</exception>
    public static IDisposable Override(
        int? widthLimit = null,
        bool? unrolledNetworks = null,
        int? extremesMinRows = null,
        int? prefetchFloats = null,
        bool? centerInRegisters = null)
    {
        if (widthLimit is not (null or 16 or 8 or 1))
        {
            throw new ArgumentOutOfRangeException(nameof(widthLimit), $"the register width must be 16, 8 or 1 floats, got {widthLimit}");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(extremesMinRows ?? 0, nameof(extremesMinRows));
        ArgumentOutOfRangeException.ThrowIfNegative(prefetchFloats ?? 0, nameof(prefetchFloats));
        var scope = new Scope(Current());
        Apply(new Values(
            widthLimit ?? WidthLimit,
            unrolledNetworks ?? UnrolledNetworks,
            extremesMinRows ?? ExtremesMinRows,
            prefetchFloats ?? PrefetchFloats,
            centerInRegisters ?? CenterInRegisters));
        return scope;
    }

    private static Values Current() => new(WidthLimit, UnrolledNetworks, ExtremesMinRows, PrefetchFloats, CenterInRegisters);

    private static void Apply(Values values)
    {
        WidthLimit = values.WidthLimit;
        UnrolledNetworks = values.UnrolledNetworks;
        ExtremesMinRows = values.ExtremesMinRows;
        PrefetchFloats = values.PrefetchFloats;
        CenterInRegisters = values.CenterInRegisters;
    }

    private readonly record struct Values(int WidthLimit, bool UnrolledNetworks, int ExtremesMinRows, int PrefetchFloats, bool CenterInRegisters);

    private sealed class Scope(Values saved) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                Apply(saved);
            }
        }
    }
}
