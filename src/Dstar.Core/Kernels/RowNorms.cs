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

    /// <summary>row ← row·factor.</summary>
    public static void Scale(Span<float> row, double factor) => TensorPrimitives.Multiply(row, (float)factor, row);
}
