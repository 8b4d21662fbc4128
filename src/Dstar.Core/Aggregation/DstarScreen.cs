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
    /// norms[i] = ‖gᵢ‖₂ and dots[i] = gᵢ·g₀ (0 without g₀) for the listed rows, in double when float overflows. A row
    /// holding NaN/±∞ gets NaN in both. One read of the listed rows and g₀, in column blocks: g₀'s block is loaded once
    /// for all rows (<see cref="RowDeviations.NormsAndDots"/>).
    /// </summary>
    public static void Measure(GradientBatch batch, ReadOnlySpan<int> rows, ReadOnlySpan<float> validation, Span<double> norms, Span<double> dots, int degreeOfParallelism = 1)
    {
        int count = rows.Length;
        if (count == 0)
        {
            return;
        }

        Span<double> squared = count <= RowPointers.StackLimit ? stackalloc double[count] : new double[count];
        Span<double> products = count <= RowPointers.StackLimit ? stackalloc double[count] : new double[count];
        products.Clear();
        bool finite = validation.IsEmpty
            ? RowDeviations.Squared(batch, rows, default, CenterMode.Origin, squared, default, degreeOfParallelism)
            : RowDeviations.NormsAndDots(batch, rows, validation, squared, products, degreeOfParallelism);
        for (int a = 0; a < count; a++)
        {
            int i = rows[a];
            if (!finite && (!double.IsFinite(squared[a]) || !double.IsFinite(products[a])))
            {
                var row = batch.Row(i);
                if (!NonFinite.AllFinite(row))
                {
                    norms[i] = dots[i] = double.NaN;
                    continue;
                }

                // Huge finite values overflow the float sums: the exact path in double.
                squared[a] = RowDeviations.Exact(row, default);
                products[a] = validation.IsEmpty ? 0 : RowDeviations.ExactDot(row, validation);
            }

            norms[i] = Math.Sqrt(squared[a]);
            dots[i] = products[a];
        }
    }

    /// <summary>
    /// Groups near-identical rows: j joins the group of an earlier representative i when
    /// ‖gᵢ − gⱼ‖ ≤ ε·min(‖gᵢ‖, ‖gⱼ‖). Pairs are first tested with the necessary conditions |‖gᵢ‖ − ‖gⱼ‖| ≤ ε·min and
    /// |gᵢ·u − gⱼ·u| ≤ ε·min (u = g₀/‖g₀‖, both from <see cref="Measure"/>); in high dimension these rarely separate
    /// honest rows (norms and one projection of independent noise agree to far better than ε), so the pairs that pass
    /// are compared column chunk by column chunk (<see cref="Within"/>), stopping as soon as the partial squared
    /// distance passes the bound. Two honest rows part after a small fraction of the columns; a near-duplicate pair
    /// costs up to one distance (two row reads).
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

                if (Within(batch.Row(i), batch.Row(j), bound))
                {
                    representative[b] = i;
                }
            }
        }

        return representative;
    }

    /// <summary>Columns per step of <see cref="Within"/>: both rows' chunks (16 KiB) stay in L1.</summary>
    private const int ChunkColumns = 2048;

    /// <summary>
    /// ‖x − y‖ ≤ bound, summed a chunk of columns at a time (float within a chunk, double across chunks, the exact
    /// double sum for a chunk whose float sum overflows), returning false as soon as the partial sum passes bound².
    /// </summary>
    internal static bool Within(ReadOnlySpan<float> x, ReadOnlySpan<float> y, double bound)
    {
        double limit = bound * bound, sum = 0;
        for (int start = 0; start < x.Length; start += ChunkColumns)
        {
            int length = Math.Min(ChunkColumns, x.Length - start);
            var a = x.Slice(start, length);
            var b = y.Slice(start, length);
            double part = TensorPrimitives.Distance(a, b);
            sum += double.IsFinite(part) ? part * part : RowDeviations.Exact(a, b);
            if (!(sum <= limit))
            {
                return false;
            }
        }

        return true;
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
