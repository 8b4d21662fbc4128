namespace Dstar.Core.Kernels;

/// <summary>Where <see cref="DeviationKernel"/> takes the centre c of each block.</summary>
internal enum CenterMode
{
    /// <summary>The median of the first centerRows rows.</summary>
    Median,

    /// <summary>The median of bucket means; buckets are consecutive runs of a row order.</summary>
    MedianOfBucketMeans,

    /// <summary>A given vector: the row pointer after the data rows.</summary>
    Given,

    /// <summary>The origin: the deviations are squared norms.</summary>
    Origin,
}
