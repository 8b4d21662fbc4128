using System.Numerics.Tensors;

namespace Dstar.Core.Kernels;

/// <summary>
/// Linear combinations of rows of a batch, y = Σₖ wₖ·x_{rows[k]}: the last step of every selection rule (Multi-Krum,
/// MDA, Zeno, FLTrust, the geometric median) and of NNM.
/// </summary>
/// <remarks>
/// Column-tiled: the output tile stays in L1 while each source row's tile streams in once, so the cost is one read of
/// the rows with a non-zero weight and one write of the output. Accumulation is in float (at most a few hundred terms
/// per value). Rows must be finite; rules drop non-finite rows first. Allocates nothing.
/// </remarks>
public static class RowCombination
{
    private const int TileWidth = 4096;

    /// <summary>Writes Σₖ weights[k]·batch.Row(rows[k]) into <paramref name="output"/>; zero weights are skipped.</summary>
    /// <exception cref="ArgumentException">rows and weights differ in length, or output is not d long.</exception>
    public static void WeightedSum(GradientBatch batch, ReadOnlySpan<int> rows, ReadOnlySpan<double> weights, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (rows.Length != weights.Length)
        {
            throw new ArgumentException($"{rows.Length} rows but {weights.Length} weights", nameof(weights));
        }

        int d = batch.Dimension;
        if (output.Length != d)
        {
            throw new ArgumentException($"output has {output.Length} values, expected d = {d}", nameof(output));
        }

        var data = batch.Buffer;
        for (int start = 0; start < d; start += TileWidth)
        {
            int width = Math.Min(TileWidth, d - start);
            var target = output.Slice(start, width);
            target.Clear();
            for (int k = 0; k < rows.Length; k++)
            {
                if (weights[k] != 0)
                {
                    TensorPrimitives.MultiplyAdd(data.AsSpan(rows[k] * d + start, width), (float)weights[k], target, target);
                }
            }
        }
    }

    /// <summary>The plain mean of the listed rows into <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">rows is empty or output is not d long.</exception>
    public static void Mean(GradientBatch batch, ReadOnlySpan<int> rows, Span<float> output)
    {
        if (rows.Length == 0)
        {
            throw new ArgumentException("the mean of no rows is undefined", nameof(rows));
        }

        Span<double> weights = rows.Length <= 512 ? stackalloc double[rows.Length] : new double[rows.Length];
        weights.Fill(1.0 / rows.Length);
        WeightedSum(batch, rows, weights, output);
    }
}
