using System.Numerics.Tensors;

namespace Dstar.Core.Kernels;

/// <summary>Euclidean norms of the rows of a batch (clipping, ARC), summed in double and exact for huge rows.</summary>
internal static class RowNorms
{
    /// <summary>norms[i] = ‖xᵢ‖₂ for every row; NaN or +∞ for rows holding non-finite values.</summary>
    public static void Compute(GradientBatch batch, Span<double> norms, int degreeOfParallelism = 1)
    {
        int n = batch.Count;
        var rows = RowPointers.All(n);
        if (!RowDeviations.Squared(batch, rows, default, CenterMode.Origin, norms, default, degreeOfParallelism))
        {
            for (int i = 0; i < n; i++)
            {
                if (!double.IsFinite(norms[i]) && NonFinite.AllFinite(batch.Row(i)))
                {
                    norms[i] = RowDeviations.Exact(batch.Row(i), default);
                }
            }
        }

        for (int i = 0; i < n; i++)
        {
            norms[i] = Math.Sqrt(norms[i]);
        }
    }

    /// <summary>
    /// ‖v‖₂ of one vector of the batch's dimension (dSTAR's g₀), in one pass of the same kernel as the rows' norms: float
    /// lanes flushed to double, the exact double sum when they overflow; NaN when v holds NaN or ±∞.
    /// </summary>
    public static double Of(GradientBatch batch, ReadOnlySpan<float> vector)
    {
        Span<double> squared = stackalloc double[1];
        if (!RowDeviations.Squared(batch, default, vector, CenterMode.Origin, squared, default))
        {
            if (!NonFinite.AllFinite(vector))
            {
                return double.NaN;
            }

            squared[0] = RowDeviations.Exact(vector, default);
        }

        return Math.Sqrt(squared[0]);
    }

    /// <summary>row ← row·factor.</summary>
    public static void Scale(Span<float> row, double factor) => TensorPrimitives.Multiply(row, (float)factor, row);
}
