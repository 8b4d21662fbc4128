using System.Numerics.Tensors;
using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// dSTAR's checks against g₀ before the centre is taken (our additions, docs/method.md): per-row norm and dot product
/// with g₀ in one read of each row, the direction and scale tests they allow, and the grouping of near-identical rows.
/// </summary>
internal static class DstarScreen
{
    /// <summary>
    /// norms[i] = ‖gᵢ‖₂ and dots[i] = gᵢ·g₀ (0 without g₀), in double when float overflows. A row holding NaN/±∞ gets
    /// NaN in both. One read of each row.
    /// </summary>
    public static void Measure(GradientBatch batch, ReadOnlySpan<float> validation, Span<double> norms, Span<double> dots)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            var row = batch.Row(i);
            double squared = TensorPrimitives.SumOfSquares(row);
            double dot = validation.IsEmpty ? 0 : TensorPrimitives.Dot(row, validation);
            if (!double.IsFinite(squared) || !double.IsFinite(dot))
            {
                if (!NonFinite.AllFinite(row))
                {
                    norms[i] = dots[i] = double.NaN;
                    continue;
                }

                // Huge finite values overflow the float sums: the exact path in double.
                squared = RowDeviations.Exact(row, default);
                dot = 0;
                for (int j = 0; !validation.IsEmpty && j < row.Length; j++)
                {
                    dot += (double)row[j] * validation[j];
                }
            }

            norms[i] = Math.Sqrt(squared);
            dots[i] = dot;
        }
    }

    /// <summary>
    /// Groups near-identical rows: j joins the group of an earlier representative i when
    /// ‖gᵢ − gⱼ‖ ≤ ε·min(‖gᵢ‖, ‖gⱼ‖). Only pairs that pass the necessary conditions |‖gᵢ‖ − ‖gⱼ‖| ≤ ε·min and
    /// |gᵢ·u − gⱼ·u| ≤ ε·min (u = g₀/‖g₀‖, both from <see cref="Measure"/>) are compared in full, so honest rows, which are
    /// never that close, cost O(k²) scalar tests and no extra pass.
    /// </summary>
    /// <returns>representative[r] for each listed row r (itself when it leads its group).</returns>
    public static int[] Groups(GradientBatch batch, IReadOnlyList<int> rows, ReadOnlySpan<double> norms, ReadOnlySpan<double> dots, double validationNorm, double epsilon)
    {
        var representative = new int[rows.Count];
        for (int a = 0; a < rows.Count; a++)
        {
            representative[a] = rows[a];
        }

        for (int a = 0; a < rows.Count; a++)
        {
            int i = rows[a];
            if (representative[a] != i)
            {
                continue;
            }

            for (int b = a + 1; b < rows.Count; b++)
            {
                int j = rows[b];
                if (representative[b] != j)
                {
                    continue;
                }

                double bound = epsilon * Math.Min(norms[i], norms[j]);
                if (Math.Abs(norms[i] - norms[j]) > bound)
                {
                    continue;
                }

                if (validationNorm > 0 && Math.Abs(dots[i] - dots[j]) > bound * validationNorm)
                {
                    continue;
                }

                if (TensorPrimitives.Distance<float>(batch.Row(i), batch.Row(j)) <= bound)
                {
                    representative[b] = i;
                }
            }
        }

        return representative;
    }

    /// <summary>The q-quantile of the values (linear interpolation between order statistics; sorts a copy).</summary>
    public static double Quantile(ReadOnlySpan<double> values, double q)
    {
        if (values.IsEmpty)
        {
            return 0;
        }

        Span<double> sorted = values.Length <= RowPointers.StackLimit ? stackalloc double[values.Length] : new double[values.Length];
        values.CopyTo(sorted);
        sorted.Sort();
        double position = q * (sorted.Length - 1);
        int low = (int)Math.Floor(position);
        int high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + ((position - low) * (sorted[high] - sorted[low]));
    }
}
