using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dstar.Core.Kernels;

/// <summary>
/// Linear combinations of rows of a batch, y = Σₖ wₖ·x_{rows[k]}: the last step of every selection rule (Multi-Krum,
/// MDA, Zeno, FLTrust, the geometric median) and of NNM.
/// </summary>
/// <remarks>
/// Each group of 64 output values is accumulated in four vector registers over every source row and stored once, so
/// the cost is one read of the rows with a non-zero weight and one write of the output. Accumulation is in float (at most a few hundred terms
/// per value). Rows must be finite; rules drop non-finite rows first. Allocates nothing.
/// </remarks>
public static class RowCombination
{
    /// <summary>Writes Σₖ weights[k]·batch.Row(rows[k]) into <paramref name="output"/>; zero weights are skipped.</summary>
    /// <exception cref="ArgumentException">rows and weights differ in length, or output is not d long.</exception>
    public static unsafe void WeightedSum(GradientBatch batch, ReadOnlySpan<int> rows, ReadOnlySpan<double> weights, Span<float> output)
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

        int terms = 0;
        var offsets = ArrayPool<long>.Shared.Rent(Math.Max(1, rows.Length));
        var factors = ArrayPool<float>.Shared.Rent(Math.Max(1, rows.Length));
        try
        {
            for (int k = 0; k < rows.Length; k++)
            {
                if (weights[k] != 0)
                {
                    offsets[terms] = (long)rows[k] * d;
                    factors[terms++] = (float)weights[k];
                }
            }

            fixed (float* source = batch.Buffer)
            fixed (float* destination = output)
            {
                Combine(source, offsets.AsSpan(0, terms), factors.AsSpan(0, terms), destination, d);
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(offsets);
            ArrayPool<float>.Shared.Return(factors);
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
    /// read from memory once in total, not once per output row; each output value is accumulated in registers over
    /// its non-zero terms and stored once.
    /// </summary>
    /// <exception cref="ArgumentException">the shapes disagree, or target is the same batch as the source.</exception>
    public static unsafe void Mix(GradientBatch batch, ReadOnlySpan<int> rows, ReadOnlySpan<double> weights, GradientBatch target, ReadOnlySpan<int> targetRows)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(target);
        int m = rows.Length, d = batch.Dimension, outputs = targetRows.Length;
        if (weights.Length != outputs * m)
        {
            throw new ArgumentException($"{outputs} outputs of {m} rows need {outputs * m} weights, got {weights.Length}", nameof(weights));
        }

        if (target.Dimension != d || ReferenceEquals(target.Buffer, batch.Buffer))
        {
            throw new ArgumentException("the target must be a different batch of the same dimension", nameof(target));
        }

        // Per output row, only its non-zero terms: offsets of the source rows and float weights.
        var offsets = ArrayPool<long>.Shared.Rent(Math.Max(1, outputs * m));
        var factors = ArrayPool<float>.Shared.Rent(Math.Max(1, outputs * m));
        var counts = ArrayPool<int>.Shared.Rent(Math.Max(1, outputs));
        try
        {
            for (int o = 0; o < outputs; o++)
            {
                int count = 0;
                for (int k = 0; k < m; k++)
                {
                    double w = weights[o * m + k];
                    if (w != 0)
                    {
                        offsets[o * m + count] = (long)rows[k] * d;
                        factors[o * m + count] = (float)w;
                        count++;
                    }
                }

                counts[o] = count;
            }

            fixed (float* source = batch.Buffer)
            fixed (float* destination = target.Buffer)
            {
                for (int start = 0; start < d; start += MixTileWidth)
                {
                    int width = Math.Min(MixTileWidth, d - start);
                    // The next tile's source rows are requested while this one is mixed, spread over the outputs.
                    int nextStart = start + MixTileWidth;
                    int linesPerRow = nextStart < d ? (Math.Min(MixTileWidth, d - nextStart) + 15) / 16 : 0;
                    int linesPerOutput = (linesPerRow * m + outputs - 1) / outputs;
                    int prefetchRow = 0, prefetchLine = 0;
                    for (int o = 0; o < outputs; o++)
                    {
                        if (Sse.IsSupported && linesPerRow > 0)
                        {
                            for (int issued = 0; issued < linesPerOutput && prefetchRow < m; issued++)
                            {
                                Sse.Prefetch0(source + (long)rows[prefetchRow] * d + nextStart + prefetchLine * 16);
                                if (++prefetchLine == linesPerRow)
                                {
                                    prefetchLine = 0;
                                    prefetchRow++;
                                }
                            }
                        }

                        Combine(source + start, offsets.AsSpan(o * m, counts[o]), factors.AsSpan(o * m, counts[o]), destination + (long)targetRows[o] * d + start, width, streaming: true);
                    }
                }
            }
        }
        finally
        {
            if (Sse.IsSupported)
            {
                // Non-temporal stores are weakly ordered: make them visible before another thread reads the target.
                Sse.StoreFence();
            }

            ArrayPool<long>.Shared.Return(offsets);
            ArrayPool<float>.Shared.Return(factors);
            ArrayPool<int>.Shared.Return(counts);
        }
    }

    // output[0..width) = Σₖ factors[k]·source[offsets[k] + 0..width), 64 values at a time in four vector registers.
    // With streaming, the 64-value groups are stored with non-temporal stores from the first 64-byte boundary on, so
    // that writing a large output does not first read it into the cache.
    private static unsafe void Combine(float* source, ReadOnlySpan<long> offsets, ReadOnlySpan<float> factors, float* output, int width, bool streaming = false)
    {
        int terms = offsets.Length;
        int head = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            if (streaming)
            {
                head = Math.Min(width, (int)((64 - ((nint)output & 63)) & 63) / sizeof(float));
                CombineScalar(source, offsets, factors, output, 0, head);
            }

            int c = head;
            for (; c + 64 <= width; c += 64)
            {
                var a0 = Vector512<float>.Zero;
                var a1 = Vector512<float>.Zero;
                var a2 = Vector512<float>.Zero;
                var a3 = Vector512<float>.Zero;
                for (int k = 0; k < terms; k++)
                {
                    float* p = source + offsets[k] + c;
                    var w = Vector512.Create(factors[k]);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Load(p), w, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 16), w, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 32), w, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 48), w, a3);
                }

                if (streaming)
                {
                    a0.StoreAlignedNonTemporal(output + c);
                    a1.StoreAlignedNonTemporal(output + c + 16);
                    a2.StoreAlignedNonTemporal(output + c + 32);
                    a3.StoreAlignedNonTemporal(output + c + 48);
                }
                else
                {
                    a0.Store(output + c);
                    a1.Store(output + c + 16);
                    a2.Store(output + c + 32);
                    a3.Store(output + c + 48);
                }
            }

            head = c;
        }

        CombineScalar(source, offsets, factors, output, head, width);
    }

    private static unsafe void CombineScalar(float* source, ReadOnlySpan<long> offsets, ReadOnlySpan<float> factors, float* output, int from, int to)
    {
        if (from >= to)
        {
            return;
        }

        var rest = new Span<float>(output + from, to - from);
        rest.Clear();
        for (int k = 0; k < offsets.Length; k++)
        {
            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(source + offsets[k] + from, to - from), factors[k], rest, rest);
        }
    }

    // Small enough that the m source tiles stay in L2 while every output row is formed.
    private const int MixTileWidth = 2048;
}
