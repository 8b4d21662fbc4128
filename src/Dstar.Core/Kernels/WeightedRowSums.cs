using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dstar.Core.Kernels;

/// <summary>
/// Weighted sums of rows of a batch with arbitrary weights, y = Σₖ wₖ·x_{rows[k]} (+ w·extra): FLTrust's weighted sum,
/// dSTAR's weighted and clipped means, and NNM's mixing. Plain means of rows (Multi-Krum, MDA, Zeno, dSTAR, the mean
/// rule) use the compiled <see cref="RowMeans.Mean"/>.
/// </summary>
/// <remarks>
/// <see cref="WeightedSum"/> is one pass of the step kernel without a centre (RowMeans.Step): one read of
/// the rows with a non-zero weight, the output written once with non-temporal stores, more than 16 rows group by group.
/// <see cref="Mix"/> forms many outputs at once strip by strip. Accumulation is in float (at most a few hundred terms
/// per value). Rows must be finite; rules drop non-finite rows first.
/// </remarks>
public static class WeightedRowSums
{
    /// <summary>
    /// Writes Σₖ weights[k]·batch.Row(rows[k]) + <paramref name="extraWeight"/>·<paramref name="extra"/> into
    /// <paramref name="output"/>; zero weights (and an empty extra) are skipped, and with no term left the output is 0.
    /// </summary>
    /// <exception cref="ArgumentException">rows and weights differ in length, or output or extra is not d long.</exception>
    public static void WeightedSum(
        GradientBatch batch,
        ReadOnlySpan<int> rows,
        ReadOnlySpan<double> weights,
        Span<float> output,
        ReadOnlySpan<float> extra = default,
        double extraWeight = 0,
        int degreeOfParallelism = 1)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (rows.Length != weights.Length)
        {
            throw new ArgumentException($"{rows.Length} rows but {weights.Length} weights", nameof(weights));
        }

        int d = batch.Dimension;
        if (output.Length != d || (!extra.IsEmpty && extra.Length != d))
        {
            throw new ArgumentException($"output and extra row need d = {d} values, got {output.Length} and {extra.Length}", nameof(output));
        }

        int terms = 0;
        var kept = ArrayPool<int>.Shared.Rent(Math.Max(1, rows.Length));
        var factors = ArrayPool<float>.Shared.Rent(rows.Length + 1);
        try
        {
            for (int k = 0; k < rows.Length; k++)
            {
                if (weights[k] != 0)
                {
                    kept[terms] = rows[k];
                    factors[terms++] = (float)weights[k];
                }
            }

            bool withExtra = !extra.IsEmpty && extraWeight != 0;
            factors[terms] = (float)extraWeight;
            RowMeans.Step(batch, kept.AsSpan(0, terms), factors, default, output, degreeOfParallelism, withExtra ? extra : default);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(kept);
            ArrayPool<float>.Shared.Return(factors);
        }
    }

    /// <summary>
    /// Several combinations at once, strip by strip: for each o, target.Row(targetRows[o]) = Σₖ weights[o·m + k]·batch.Row(rows[k])
    /// with m = rows.Length. A narrow strip of the m source rows stays in L1 while every output row's strip is formed,
    /// so the sources are read from memory once in total, not once per output row; each output value is accumulated
    /// in registers over its non-zero terms and stored once (with non-temporal stores where AVX-512 is available, so
    /// that writing the target does not first read it). Allocates nothing for up to 256 rows and outputs.
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
            fixed (long* offsetData = offsets)
            fixed (float* factorData = factors)
            fixed (int* countData = counts)
            {
                if (Vector512.IsHardwareAccelerated)
                {
                    Span<nint> sources = m <= 256 ? stackalloc nint[m] : new nint[m];
                    Span<nint> outputPointers = outputs <= 256 ? stackalloc nint[outputs] : new nint[outputs];
                    for (int k = 0; k < m; k++)
                    {
                        sources[k] = (nint)(source + (long)rows[k] * d);
                    }

                    for (int o = 0; o < outputs; o++)
                    {
                        outputPointers[o] = (nint)(destination + (long)targetRows[o] * d);
                    }

                    MixStrips(source, sources, offsetData, factorData, countData, m, outputPointers, d);
                }
                else
                {
                    for (int start = 0; start < d; start += MixTileWidth)
                    {
                        int width = Math.Min(MixTileWidth, d - start);
                        for (int o = 0; o < outputs; o++)
                        {
                            Combine(source + start, offsets.AsSpan(o * m, counts[o]), factors.AsSpan(o * m, counts[o]), destination + (long)targetRows[o] * d + start, width);
                        }
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

    /// <summary>
    /// The AVX-512 body of <see cref="Mix"/>: strips of 128 columns, and within a strip every output row in turn, so the
    /// strip of the m source rows (m × 512 bytes) stays in L1 while all outputs are formed from it. Each source value
    /// then comes from memory once and from L1 about n − f times, instead of from L2 once per output row (which bounded
    /// the earlier tile-by-output loop at about four reads of the batch). Each output row's strips are shifted by that
    /// row's misalignment so that its values go out as aligned non-temporal stores (whole cache lines, no read for
    /// ownership); the few columns before the shift and after the last whole strip are done with scalar code.
    /// </summary>
    private static unsafe void MixStrips(float* source, ReadOnlySpan<nint> sources, long* offsets, float* factors, int* counts, int m, ReadOnlySpan<nint> outputs, int d)
    {
        const int Strip = 128;
        int outputCount = outputs.Length;
        Span<int> shifts = outputCount <= 256 ? stackalloc int[outputCount] : new int[outputCount];
        int strips = int.MaxValue;
        for (int o = 0; o < outputCount; o++)
        {
            float* output = (float*)outputs[o];
            int shift = Math.Min(d, (int)((64 - ((nint)output & 63)) & 63) / sizeof(float));
            shifts[o] = shift;
            strips = Math.Min(strips, (d - shift) / Strip);
            CombineScalar(source, new ReadOnlySpan<long>(offsets + o * m, counts[o]), new ReadOnlySpan<float>(factors + o * m, counts[o]), output, 0, shift);
        }

        for (int strip = 0; strip < strips; strip++)
        {
            int column = strip * Strip;
            if (Sse.IsSupported)
            {
                // The next tile's source rows are requested row after row (a few long sequential runs rather than m
                // interleaved streams), spread evenly over this tile's strips.
                int tileStrips = PrefetchFloats / Strip;
                int within = strip % tileStrips;
                int nextTile = (strip / tileStrips + 1) * PrefetchFloats;
                int linesPerRow = PrefetchFloats / 16;
                int totalLines = linesPerRow * sources.Length;
                int first = (int)((long)totalLines * within / tileStrips), last = (int)((long)totalLines * (within + 1) / tileStrips);
                for (int line = first; line < last; line++)
                {
                    int row = line / linesPerRow;
                    long at = nextTile + (line - row * linesPerRow) * 16L;
                    if (at < d)
                    {
                        Sse.Prefetch1((float*)sources[row] + at);
                    }
                }
            }

            for (int o = 0; o < outputCount; o++)
            {
                int shift = shifts[o];
                float* from = source + column + shift;
                long* offset = offsets + o * m;
                float* factor = factors + o * m;
                int terms = counts[o];
                var a0 = Vector512<float>.Zero;
                var a1 = Vector512<float>.Zero;
                var a2 = Vector512<float>.Zero;
                var a3 = Vector512<float>.Zero;
                var a4 = Vector512<float>.Zero;
                var a5 = Vector512<float>.Zero;
                var a6 = Vector512<float>.Zero;
                var a7 = Vector512<float>.Zero;
                for (int k = 0; k < terms; k++)
                {
                    float* p = from + offset[k];
                    var w = Vector512.Create(factor[k]);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Load(p), w, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 16), w, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 32), w, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 48), w, a3);
                    a4 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 64), w, a4);
                    a5 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 80), w, a5);
                    a6 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 96), w, a6);
                    a7 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 112), w, a7);
                }

                float* output = (float*)outputs[o] + column + shift;
                a0.StoreAlignedNonTemporal(output);
                a1.StoreAlignedNonTemporal(output + 16);
                a2.StoreAlignedNonTemporal(output + 32);
                a3.StoreAlignedNonTemporal(output + 48);
                a4.StoreAlignedNonTemporal(output + 64);
                a5.StoreAlignedNonTemporal(output + 80);
                a6.StoreAlignedNonTemporal(output + 96);
                a7.StoreAlignedNonTemporal(output + 112);
            }
        }

        for (int o = 0; o < outputCount; o++)
        {
            int from = Math.Min(d, shifts[o] + strips * Strip);
            CombineScalar(source, new ReadOnlySpan<long>(offsets + o * m, counts[o]), new ReadOnlySpan<float>(factors + o * m, counts[o]), (float*)outputs[o], from, d);
        }
    }

    // Columns per prefetch tile of MixStrips: the next tile of m rows (128 KiB at m = 16) is requested into L2 while this
    // one is mixed. Measured at n = 16, d = 10⁶ (noisy shared machine): a few percent less time than leaving it to the
    // hardware prefetchers, while prefetching every row a few strips ahead (m interleaved streams) was slower than both.
    private const int PrefetchFloats = 2048;

    // output[0..width) = Σₖ factors[k]·source[offsets[k] + 0..width), 64 values at a time in four vector registers.
    private static unsafe void Combine(float* source, ReadOnlySpan<long> offsets, ReadOnlySpan<float> factors, float* output, int width)
    {
        int terms = offsets.Length;
        int head = 0;
        if (Vector512.IsHardwareAccelerated)
        {
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

                a0.Store(output + c);
                a1.Store(output + c + 16);
                a2.Store(output + c + 32);
                a3.Store(output + c + 48);
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
