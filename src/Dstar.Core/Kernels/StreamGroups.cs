namespace Dstar.Core.Kernels;

/// <summary>
/// How many rows a pass reads side by side before it splits them into groups: the hardware prefetchers follow a
/// limited number of streams, so past about 16 rows read side by side a pass slows down by more than 2× (measurements
/// in docs/benchmarks.md, "Kernel design notes").
/// </summary>
internal static class StreamGroups
{
    /// <summary>Streams per group: 16 rows, or 15 rows and the running sum.</summary>
    public const int Rows = 16;

    /// <summary>Columns per tile: the running sum (256 KiB) stays in L2 between the groups.</summary>
    public const int TileColumns = 1 << 16;
}
