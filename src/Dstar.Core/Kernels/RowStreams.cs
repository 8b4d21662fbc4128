using System.Buffers;
using System.Numerics.Tensors;

namespace Dstar.Core.Kernels;

/// <summary>
/// Row-at-a-time versions of the kernels that need no per-coordinate selection (row means, deviations from a fixed
/// centre, centered clipping's step), used for many rows. Reading n rows side by side, one register each, is n
/// interleaved memory streams; past a few dozen the prefetchers lose track. Here a tile of the output (16 KiB) stays
/// in L1 while each row's slice of it is read as one sequential run.
/// </summary>
/// <remarks>
/// One thread allocates nothing; with two threads the split costs Parallel.Invoke's few small objects.
/// </remarks>
internal static unsafe class RowStreams
{
    /// <summary>From this many rows on, the row-at-a-time kernels are used.</summary>
    public const int FromRows = 24;

    /// <summary>Columns per tile (16 KiB of floats).</summary>
    private const int TileColumns = 4096;

    /// <summary>output = (Σ pointers) / count over columns [0, d). Returns false when the result is non-finite (NaN/∞ input or overflow).</summary>
    public static bool Mean(float** pointers, int count, int d, float* output, int degreeOfParallelism)
    {
        if (!Parallel(d, degreeOfParallelism, out int half))
        {
            return MeanRange(pointers, count, output, 0, d);
        }

        nint p = (nint)pointers, o = (nint)output;
        bool first = true, second = true;
        System.Threading.Tasks.Parallel.Invoke(
            () => first = MeanRange((float**)p, count, (float*)o, 0, half),
            () => second = MeanRange((float**)p, count, (float*)o, half, d));
        return first && second;
    }

    /// <summary>squared[i] += Σⱼ (pᵢⱼ − cⱼ)² with c = center, or 0 when center is null.</summary>
    public static void Deviations(float** pointers, int count, int d, float* center, double* squared, int degreeOfParallelism)
    {
        if (!Parallel(d, degreeOfParallelism, out int half))
        {
            DeviationsRange(pointers, count, center, squared, 0, d);
            return;
        }

        var second = ArrayPool<double>.Shared.Rent(count);
        try
        {
            fixed (double* other = second)
            {
                new Span<double>(other, count).Clear();
                nint p = (nint)pointers, c = (nint)center, s = (nint)squared, t = (nint)other;
                System.Threading.Tasks.Parallel.Invoke(
                    () => DeviationsRange((float**)p, count, (float*)c, (double*)s, 0, half),
                    () => DeviationsRange((float**)p, count, (float*)c, (double*)t, half, d));
                for (int i = 0; i < count; i++)
                {
                    squared[i] += other[i];
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(second);
        }
    }

    /// <summary>center ← center + Σᵢ weights[i]·(pᵢ − center), in place.</summary>
    public static void Step(float** pointers, int count, int d, float* weights, float* center, int degreeOfParallelism)
    {
        if (!Parallel(d, degreeOfParallelism, out int half))
        {
            StepRange(pointers, count, weights, center, 0, d);
            return;
        }

        nint p = (nint)pointers, w = (nint)weights, c = (nint)center;
        System.Threading.Tasks.Parallel.Invoke(
            () => StepRange((float**)p, count, (float*)w, (float*)c, 0, half),
            () => StepRange((float**)p, count, (float*)w, (float*)c, half, d));
    }

    private static bool Parallel(int d, int degreeOfParallelism, out int half)
    {
        half = d / 2 / TileColumns * TileColumns;
        return degreeOfParallelism >= 2 && d >= 4 * TileColumns;
    }

    private static bool MeanRange(float** pointers, int count, float* output, int start, int end)
    {
        bool finite = true;
        float scale = 1f / count;
        for (int j = start; j < end; j += TileColumns)
        {
            int length = Math.Min(TileColumns, end - j);
            var tile = new Span<float>(output + j, length);
            new ReadOnlySpan<float>(pointers[0] + j, length).CopyTo(tile);
            for (int r = 1; r < count; r++)
            {
                TensorPrimitives.Add(tile, new ReadOnlySpan<float>(pointers[r] + j, length), tile);
            }

            TensorPrimitives.Multiply(tile, scale, tile);
            finite &= TensorPrimitives.IsFiniteAll<float>(tile);
        }

        return finite;
    }

    private static void DeviationsRange(float** pointers, int count, float* center, double* squared, int start, int end)
    {
        for (int j = start; j < end; j += TileColumns)
        {
            int length = Math.Min(TileColumns, end - j);
            for (int i = 0; i < count; i++)
            {
                var row = new ReadOnlySpan<float>(pointers[i] + j, length);
                if (center == null)
                {
                    squared[i] += TensorPrimitives.SumOfSquares(row);
                }
                else
                {
                    // Float sums over one tile only; tiles are added in double.
                    double distance = TensorPrimitives.Distance(row, new ReadOnlySpan<float>(center + j, length));
                    squared[i] += distance * distance;
                }
            }
        }
    }

    private static void StepRange(float** pointers, int count, float* weights, float* center, int start, int end)
    {
        var scratch = ArrayPool<float>.Shared.Rent(2 * TileColumns);
        try
        {
            for (int j = start; j < end; j += TileColumns)
            {
                int length = Math.Min(TileColumns, end - j);
                var tile = new Span<float>(center + j, length);
                var sum = scratch.AsSpan(0, length);
                var difference = scratch.AsSpan(TileColumns, length);
                sum.Clear();
                for (int i = 0; i < count; i++)
                {
                    TensorPrimitives.Subtract(new ReadOnlySpan<float>(pointers[i] + j, length), tile, difference);
                    TensorPrimitives.MultiplyAdd(difference, weights[i], sum, sum);
                }

                TensorPrimitives.Add(tile, sum, tile);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }
}
