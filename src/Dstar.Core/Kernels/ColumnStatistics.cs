using System.Numerics.Tensors;

namespace Dstar.Core.Kernels;

/// <summary>
/// Coordinate-wise mean μ and standard deviation σ of the rows of a batch: the two statistics every omniscient attack
/// starts from (ALIE, IPM, Min-Max, Min-Sum…). μ comes from <see cref="RowMeans.Mean"/>; σ is vectorised with
/// <see cref="TensorPrimitives"/>, row by row, so the batch is read in memory order.
/// </summary>
/// <remarks>
/// σ is the population standard deviation, σⱼ = √((1/n) Σᵢ (xᵢⱼ − μⱼ)²): it is defined (zero) for a single row, and
/// it is what a server-side attacker estimating the spread of the n rows it sees would compute.
/// Cost: O(n·d) for μ, O(2·n·d) for μ and σ; nothing is allocated (up to 512 rows).
/// Non-finite values propagate: a NaN or ±∞ in a column makes that column's μ and σ non-finite.
/// </remarks>
public static class ColumnStatistics
{
    /// <summary>Writes μⱼ = (1/n) Σᵢ xᵢⱼ into <paramref name="mean"/>.</summary>
    /// <exception cref="ArgumentException">the batch has no rows, or <paramref name="mean"/> is not of length d.</exception>
    public static void Mean(GradientBatch batch, Span<float> mean)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Require(batch, mean.Length, nameof(mean));
        // The rules' row-mean kernel: one read of the rows (n read-modify-write passes over μ before).
        int n = batch.Count;
        Span<int> rows = n <= RowPointers.StackLimit ? stackalloc int[n] : new int[n];
        for (int i = 0; i < n; i++)
        {
            rows[i] = i;
        }

        RowMeans.Mean(batch, rows, default, mean);
    }

    /// <summary>
    /// Writes μ into <paramref name="mean"/> and the population standard deviation σ into
    /// <paramref name="standardDeviation"/>, using <paramref name="scratch"/> (length d) for the centred row.
    /// </summary>
    /// <exception cref="ArgumentException">the batch has no rows, or a span is not of length d.</exception>
    public static void MeanAndStandardDeviation(GradientBatch batch, Span<float> mean, Span<float> standardDeviation, Span<float> scratch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Require(batch, standardDeviation.Length, nameof(standardDeviation));
        Require(batch, scratch.Length, nameof(scratch));
        Mean(batch, mean);

        // Two passes (mean first, then squared deviations) rather than E[x²] − μ²: the one-pass form cancels
        // catastrophically when the spread is small next to the mean, which is the usual case for gradients.
        standardDeviation.Clear();
        int n = batch.Count;
        for (int i = 0; i < n; i++)
        {
            TensorPrimitives.Subtract(batch.Row(i), mean, scratch);
            TensorPrimitives.MultiplyAdd(scratch, scratch, standardDeviation, standardDeviation);
        }

        TensorPrimitives.Multiply(standardDeviation, 1f / n, standardDeviation);
        TensorPrimitives.Sqrt(standardDeviation, standardDeviation);
    }

    private static void Require(GradientBatch batch, int length, string name)
    {
        if (batch.Count == 0)
        {
            throw new ArgumentException("column statistics need at least one row, got an empty batch", nameof(batch));
        }

        if (length != batch.Dimension)
        {
            throw new ArgumentException($"{name} has {length} values, expected d = {batch.Dimension}", name);
        }
    }
}
