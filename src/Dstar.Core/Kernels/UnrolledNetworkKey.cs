namespace Dstar.Core.Kernels;

/// <summary>What a compiled range of <see cref="UnrolledNetworks"/> computes.</summary>
internal enum UnrolledTask
{
    /// <summary>Median, rank mean or closest-to-median through a rank network.</summary>
    Selection,

    /// <summary>A symmetric trimmed mean that tracks the trim + 1 extremes of each end instead of ranking.</summary>
    TrimmedByExtremes,

    /// <summary>The median of n rows as the median of n − 1 rows with the last one inserted.</summary>
    MedianInserting,

    /// <summary>(Σ rows)·scale.</summary>
    RowSum,

    /// <summary>Σ (xᵢ − c)² with a fixed centre (given, or the origin).</summary>
    FixedCenterDeviations,

    /// <summary>Σ xᵢ² and Σ xᵢ·y beside each other.</summary>
    NormsAndDots,

    /// <summary>c + Σ wᵢ (xᵢ − c), or Σ wᵢ xᵢ without a centre.</summary>
    Step,
}

/// <summary>
/// The shape a compiled range was emitted for; two requests with equal keys share one range. Fields a task does not
/// use stay at their defaults.
/// </summary>
/// <param name="Task">What the range computes.</param>
/// <param name="Rows">n, the input rows.</param>
/// <param name="Streaming">The output is written with non-temporal stores.</param>
/// <param name="Mode">The selection mode (selection tasks).</param>
/// <param name="Low">The lowest selected rank, or the trim (selection tasks).</param>
/// <param name="High">The highest selected rank (selection tasks).</param>
/// <param name="Scale">The factor of a row sum.</param>
/// <param name="GivenCenter">The centre is the row after the inputs rather than the origin (fixed-centre deviations, step).</param>
internal readonly record struct UnrolledNetworkKey(
    UnrolledTask Task,
    int Rows,
    bool Streaming,
    SelectionMode Mode = default,
    int Low = 0,
    int High = 0,
    float Scale = 0f,
    bool GivenCenter = false);
