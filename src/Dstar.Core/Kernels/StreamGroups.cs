namespace Dstar.Core.Kernels;

/// <summary>
/// How many rows a pass reads side by side before it splits them into groups. With the batch far larger than the
/// caches, a 16-row mean ran at 0.7× a single streaming read, while reading 64 rows side by side, or one row at a time
/// through an L1 tile, ran at about 1.8×: the hardware prefetchers follow a limited number of streams.
/// </summary>
internal static class StreamGroups
{
    /// <summary>Streams per group: 16 rows, or 15 rows and the running sum.</summary>
    public const int Rows = 16;

    /// <summary>Columns per tile: the running sum (256 KiB) stays in L2 between the groups.</summary>
    public const int TileColumns = 1 << 16;
}
