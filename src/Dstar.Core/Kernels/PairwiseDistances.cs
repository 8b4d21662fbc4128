namespace Dstar.Core.Kernels;

/// <summary>
/// Pairwise squared Euclidean distances between the rows of a batch, through the Gram matrix:
/// ‖xᵢ − xⱼ‖² = ‖xᵢ‖² + ‖xⱼ‖² − 2 xᵢ·xⱼ. Krum, Multi-Krum, Bulyan, MDA and NNM all call this.
/// </summary>
public static class PairwiseDistances
{
    /// <summary>
    /// Fills <paramref name="distances"/> (n×n, row-major) with the squared distances between the rows of
    /// <paramref name="batch"/>; the diagonal is 0 and negative round-off is clamped to 0.
    /// </summary>
    public static void Squared(GradientBatch batch, Span<double> distances)
    {
        int n = batch.Count;
        if (distances.Length < n * n)
        {
            throw new ArgumentException($"distance matrix needs {n * n} entries, got {distances.Length}", nameof(distances));
        }

        for (int i = 0; i < n; i++)
        {
            distances[i * n + i] = 0;
            for (int j = i + 1; j < n; j++)
            {
                double sum = 0;
                var a = batch.Row(i);
                var b = batch.Row(j);
                for (int c = 0; c < a.Length; c++)
                {
                    double diff = (double)a[c] - b[c];
                    sum += diff * diff;
                }

                distances[i * n + j] = sum;
                distances[j * n + i] = sum;
            }
        }
    }
}
