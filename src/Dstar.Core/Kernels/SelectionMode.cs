namespace Dstar.Core.Kernels;

/// <summary>What <see cref="SelectionKernel"/> computes from the ranks it selects.</summary>
internal enum SelectionMode
{
    /// <summary>The middle value (mean of the two middle values for even n).</summary>
    Median,

    /// <summary>The mean of ranks low..high.</summary>
    RankMean,

    /// <summary>The mean of the keep values closest to the median (a window of the sorted values).</summary>
    ClosestToMedian,
}
