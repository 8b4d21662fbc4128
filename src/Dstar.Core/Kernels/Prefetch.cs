namespace Dstar.Core.Kernels;

/// <summary>
/// Software prefetch distance for the row streams. With many rows read side by side (n streams 4·d bytes apart) the
/// hardware prefetchers lose track; touching each row a few blocks ahead keeps the loads from waiting on memory.
/// </summary>
internal static class Prefetch
{
    /// <summary>Floats ahead of the current block (0 turns software prefetch off).</summary>
    public static int Floats { get; set; } = 256;
}
