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

    /// <summary>
    /// Several combinations at once, tile by tile: for each o, target.Row(targetRows[o]) = Σₖ weights[o·m + k]·batch.Row(rows[k])
    /// with m = rows.Length. The m source tiles stay in cache while every output row is formed, so the sources are
    /// read from memory once in total, not once per output row.
    /// </summary>
    /// <exception cref="ArgumentException">the shapes disagree, or target is the same batch as the source.</exception>
    public static void Mix(GradientBatch batch, ReadOnlySpan<int> rows, ReadOnlySpan<double> weights, GradientBatch target, ReadOnlySpan<int> targetRows)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(target);
        int m = rows.Length, d = batch.Dimension;
        if (weights.Length != targetRows.Length * m)
        {
            throw new ArgumentException($"{targetRows.Length} outputs of {m} rows need {targetRows.Length * m} weights, got {weights.Length}", nameof(weights));
        }

        if (target.Dimension != d || ReferenceEquals(target.Buffer, batch.Buffer))
        {
            throw new ArgumentException("the target must be a different batch of the same dimension", nameof(target));
        }

        var source = batch.Buffer;
        var destination = target.Buffer;
        for (int start = 0; start < d; start += MixTileWidth)
        {
            int width = Math.Min(MixTileWidth, d - start);
            for (int o = 0; o < targetRows.Length; o++)
            {
                var output = destination.AsSpan(targetRows[o] * d + start, width);
                output.Clear();
                for (int k = 0; k < m; k++)
                {
                    double w = weights[o * m + k];
                    if (w != 0)
                    {
                        TensorPrimitives.MultiplyAdd(source.AsSpan(rows[k] * d + start, width), (float)w, output, output);
                    }
                }
            }
        }
    }

    // Small enough that the m source tiles stay in L1/L2 while every output row is formed.
    private const int MixTileWidth = 1024;
}
