using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dstar.Core.Kernels;

/// <summary>Runs a column kernel over [0, d), on one thread or split into column ranges across several.</summary>
/// <remarks>
/// Blocks are read straight from the rows (one register of every row per block, rows prefetched a few blocks ahead)
/// rather than first copied into a scratch tile: the working set of a block (n registers) already stays in L1, so
/// the copy costs more than it saves (docs/benchmarks.md, "Kernel design notes").
/// </remarks>
internal static unsafe class ColumnTiles
{
    /// <summary>The widest register (floats) any kernel runs with.</summary>
    public const int MaxWidth = 16;

    // Float accumulators are flushed to double often enough that each lane sums at most this many terms.
    private const int FlushEvery = 64;

    // Below this many columns per worker a second thread costs more than it saves.
    private const int MinColumnsPerWorker = 1 << 14;

    /// <summary>
    /// Runs <paramref name="kernel"/> over columns [0, d) of <paramref name="pointerCount"/> row pointers, writing to
    /// <paramref name="output"/> (or nothing when null). The bound per-worker kernels are left in <paramref name="bound"/>
    /// (its length caps the number of workers) so that the caller can merge their results.
    /// </summary>
    /// <returns>How many workers ran (entries of <paramref name="bound"/> in use).</returns>
    public static int Run<TKernel>(TKernel kernel, float** rows, int pointerCount, int d, float* output, int degreeOfParallelism, Span<TKernel> bound)
        where TKernel : unmanaged, IColumnKernel<TKernel>
    {
        int workers = Math.Clamp(Math.Min(degreeOfParallelism, d / MinColumnsPerWorker), 1, bound.Length);
        int tailFloats = pointerCount * MaxWidth + MaxWidth + 2 * pointerCount;
        int perWorker = Align(kernel.ScratchFloats + tailFloats);
        var pool = ArrayPool<float>.Shared.Rent(perWorker * workers + MaxWidth);
        try
        {
            fixed (float* pinned = pool)
            fixed (TKernel* kernels = bound)
            {
                // 64-byte alignment keeps each scratch register within one cache line.
                float* scratch = (float*)(((nint)pinned + 63) & ~(nint)63);
                for (int w = 0; w < workers; w++)
                {
                    kernels[w] = kernel.Bind(scratch + w * perWorker + tailFloats);
                }

                if (workers == 1)
                {
                    Dispatch(kernels, rows, pointerCount, output, 0, d, scratch);
                }
                else
                {
                    RunParallel(kernels, rows, pointerCount, d, output, workers, perWorker, scratch);
                }
            }

            return workers;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(pool);
        }
    }

    // A method of its own so that the lambda's captured state is allocated only on this path, never on one thread.
    private static void RunParallel<TKernel>(TKernel* kernels, float** rows, int pointerCount, int d, float* output, int workers, int perWorker, float* scratch)
        where TKernel : unmanaged, IColumnKernel<TKernel>
    {
        // Worker boundaries sit on the single-thread block and flush grid (after the alignment head of RunRange), so
        // each column meets the same lane, neighbours and flush group as with one thread.
        int head = (int)(((-(nint)rows[0]) & (MaxWidth * sizeof(float) - 1)) / sizeof(float));
        int chunk = (d - head) / workers / (FlushEvery * MaxWidth) * (FlushEvery * MaxWidth);
        nint kernelsAddress = (nint)kernels, rowsAddress = (nint)rows, outputAddress = (nint)output, scratchAddress = (nint)scratch;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            int start = w == 0 ? 0 : head + w * chunk, end = w == workers - 1 ? d : head + (w + 1) * chunk;
            Dispatch((TKernel*)kernelsAddress + w, (float**)rowsAddress, pointerCount, (float*)outputAddress, start, end, (float*)scratchAddress + w * perWorker);
        });
    }

    private static int Align(int floats) => (floats + MaxWidth - 1) / MaxWidth * MaxWidth;

    private static void Dispatch<TKernel>(TKernel* kernel, float** rows, int pointerCount, float* output, int start, int end, float* tail)
        where TKernel : unmanaged, IColumnKernel<TKernel>
    {
        if (Vector512.IsHardwareAccelerated && KernelSettings.WidthLimit >= 16)
        {
            RunRange<TKernel, Lanes512, Vector512<float>>(kernel, rows, pointerCount, output, start, end, tail);
        }
        else if (Vector256.IsHardwareAccelerated && KernelSettings.WidthLimit >= 8)
        {
            RunRange<TKernel, Lanes256, Vector256<float>>(kernel, rows, pointerCount, output, start, end, tail);
        }
        else
        {
            RunRange<TKernel, Lanes1, float>(kernel, rows, pointerCount, output, start, end, tail);
        }

        // Compiled kernels may write their output with non-temporal stores, which are weakly ordered: make them
        // visible before this worker reports back (another thread may read the output next).
        if (Sse.IsSupported)
        {
            Sse.StoreFence();
        }
    }

    /// <summary>
    /// Blocks of Width columns starting on a cache-line boundary of the first row; the few columns before it and the
    /// ragged end are copied into a zero-padded tile so kernels never see a partial register.
    /// </summary>
    internal static void RunRange<TKernel, TLanes, TVec>(TKernel* kernel, float** rows, int pointerCount, float* output, int start, int end, float* tail)
        where TKernel : unmanaged, IColumnKernel<TKernel>
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged
    {
        int width = TLanes.Width;
        nint column = start;
        int sinceFlush = 0;

        // GC arrays are not 64-byte aligned, so with the first row off by a few floats every register load would
        // straddle two cache lines; a short head through the tile path puts the blocks on line boundaries (all rows
        // share the alignment whenever d is a multiple of 16).
        int head = (int)((-((nint)(rows[0] + start))) & (width * sizeof(float) - 1)) / sizeof(float);
        if (head > 0 && head < end - start && width > 1)
        {
            RunPartial<TKernel, TLanes, TVec>(kernel, rows, pointerCount, output, column, head, tail);
            kernel->Flush<TLanes, TVec>();
            column += head;
        }

        if (typeof(TVec) == typeof(Vector512<float>) && kernel->HasCompiled)
        {
            // One call for every whole block: compiled code flushes its float sums itself, so the stream of loads
            // runs without a break (see UnrolledNetworks.FlushBlocks).
            nint wholeEnd = column + (end - column) / width * width;
            if (column < wholeEnd)
            {
                kernel->RunCompiled(rows, column, wholeEnd, output);
                kernel->Flush<TLanes, TVec>();
            }

            column = wholeEnd;
        }

        for (; column + width <= end; column += width)
        {
            kernel->Block<TLanes, TVec>(rows, column, output == null ? null : output + column);
            if (++sinceFlush == FlushEvery)
            {
                kernel->Flush<TLanes, TVec>();
                sinceFlush = 0;
            }
        }

        int remaining = end - (int)column;
        if (remaining > 0)
        {
            RunPartial<TKernel, TLanes, TVec>(kernel, rows, pointerCount, output, column, remaining, tail);
        }

        kernel->Flush<TLanes, TVec>();
    }

    /// <summary>Columns [column, column + count), count &lt; width, through a zero-padded tile so kernels never see a partial register.</summary>
    private static void RunPartial<TKernel, TLanes, TVec>(TKernel* kernel, float** rows, int pointerCount, float* output, nint column, int count, float* tail)
        where TKernel : unmanaged, IColumnKernel<TKernel>
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged
    {
        // Zero padding is neutral for every kernel: it adds 0 to sums and a 0 deviation from a 0 centre.
        float** tailRows = (float**)(tail + pointerCount * MaxWidth + MaxWidth);
        float* tailOutput = tail + pointerCount * MaxWidth;
        for (int r = 0; r < pointerCount; r++)
        {
            float* row = tail + r * MaxWidth;
            new Span<float>(row, MaxWidth).Clear();
            new ReadOnlySpan<float>(rows[r] + column, count).CopyTo(new Span<float>(row, MaxWidth));
            tailRows[r] = row;
        }

        // The compiled code, when there is one, also runs the tile: the same arithmetic for every column, so a result
        // does not depend on where the batch happens to sit in memory (which columns fall into the head and tail).
        if (typeof(TVec) == typeof(Vector512<float>) && kernel->HasCompiled)
        {
            kernel->RunCompiled(tailRows, 0, MaxWidth, output == null ? null : tailOutput);
        }
        else
        {
            kernel->Block<TLanes, TVec>(tailRows, 0, output == null ? null : tailOutput);
        }

        if (output != null)
        {
            new ReadOnlySpan<float>(tailOutput, count).CopyTo(new Span<float>(output + column, count));
        }
    }
}
