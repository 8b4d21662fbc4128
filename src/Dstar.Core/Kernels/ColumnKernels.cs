using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Dstar.Core.Kernels;

/// <summary>
/// Software prefetch distance for the row streams. With many rows read side by side (n streams 4·d bytes apart) the
/// hardware prefetchers lose track; touching each row a few blocks ahead keeps the loads from waiting on memory.
/// </summary>
internal static class Prefetch
{
    /// <summary>Floats ahead of the current block (0 turns software prefetch off).</summary>
    public static int Floats { get; set; } = 256;
}

/// <summary>Pieces shared by the column kernels.</summary>
internal static unsafe class ColumnKernelParts
{
    /// <summary>
    /// Loads rows [0, count) of one block into <paramref name="values"/> and returns their sum (a balanced tree of
    /// four chains, so the adds overlap). The sum doubles as the non-finite detector: it is finite unless a loaded value
    /// is NaN or ±∞ (or finite values overflow, a false alarm the caller resolves with a row scan).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec LoadAndSum<TLanes, TVec>(float** rows, nint column, int count, TVec* values)
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged
    {
        var zero = TLanes.Broadcast(0f);
        TVec s0 = zero, s1 = zero, s2 = zero, s3 = zero;
        if (Prefetch.Floats > 0 && Sse.IsSupported)
        {
            for (int p = 0; p < count; p++)
            {
                Sse.Prefetch0(rows[p] + column + Prefetch.Floats);
            }
        }

        int r = 0;
        for (; r + 4 <= count; r += 4)
        {
            var a = TLanes.Load(rows[r] + column);
            var b = TLanes.Load(rows[r + 1] + column);
            var c = TLanes.Load(rows[r + 2] + column);
            var d = TLanes.Load(rows[r + 3] + column);
            values[r] = a;
            values[r + 1] = b;
            values[r + 2] = c;
            values[r + 3] = d;
            s0 = TLanes.Add(s0, a);
            s1 = TLanes.Add(s1, b);
            s2 = TLanes.Add(s2, c);
            s3 = TLanes.Add(s3, d);
        }

        for (; r < count; r++)
        {
            var a = TLanes.Load(rows[r] + column);
            values[r] = a;
            s0 = TLanes.Add(s0, a);
        }

        return TLanes.Add(TLanes.Add(s0, s1), TLanes.Add(s2, s3));
    }

    /// <summary>Folds a block sum into the running finiteness check: s·0 is 0 for finite s and NaN otherwise, so the check never overflows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check<TLanes, TVec>(TVec sum, float* check)
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged =>
        TLanes.Store(TLanes.MultiplyAdd(sum, TLanes.Broadcast(0f), TLanes.Load(check)), check);

    /// <summary>True when the check register accumulated no NaN.</summary>
    public static bool CheckPassed(float* check)
    {
        for (int i = 0; i < ColumnTiles.MaxWidth; i++)
        {
            if (!float.IsFinite(check[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Applies a comparator network in place to registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sort<TLanes, TVec>(TVec* values, int* pairs, int comparators)
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged
    {
        for (int c = 0; c < comparators; c++)
        {
            int a = pairs[2 * c], b = pairs[2 * c + 1];
            var x = values[a];
            var y = values[b];
            values[a] = TLanes.Min(x, y);
            values[b] = TLanes.Max(x, y);
        }
    }

    /// <summary>The median of registers already passed through the median network of <paramref name="n"/> inputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec MedianOfSorted<TLanes, TVec>(TVec* sorted, int n)
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged =>
        (n & 1) == 1
            ? sorted[n / 2]
            : TLanes.Multiply(TLanes.Add(sorted[n / 2 - 1], sorted[n / 2]), TLanes.Broadcast(0.5f));
}

/// <summary>Per coordinate, (Σ rows)·scale: the mean when scale = 1/rows.</summary>
internal unsafe struct RowSumKernel(int rows, float scale, bool streaming = true) : IColumnKernel<RowSumKernel>
{
    private readonly int _compiled = UnrolledNetworks.RowSum(rows, scale, streaming);
    private float* _check;

    public readonly bool HasCompiled => _compiled >= 0;

    public readonly void RunCompiled(float** rowPointers, nint start, nint end, float* output) =>
        UnrolledNetworks.Get(_compiled)(rowPointers, start, end, output, _check, null);

    public readonly int ScratchFloats => (rows + 1) * ColumnTiles.MaxWidth;

    /// <summary>False when a value was non-finite (or a sum overflowed).</summary>
    public readonly bool Finite => ColumnKernelParts.CheckPassed(_check);

    public readonly RowSumKernel Bind(float* scratch)
    {
        var bound = this;
        bound._check = scratch;
        new Span<float>(scratch, ColumnTiles.MaxWidth).Clear();
        return bound;
    }

    public readonly void Block<TLanes, TVec>(float** rowPointers, nint column, float* output)
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged
    {
        var values = (TVec*)(_check + ColumnTiles.MaxWidth);
        var sum = ColumnKernelParts.LoadAndSum<TLanes, TVec>(rowPointers, column, rows, values);
        ColumnKernelParts.Check<TLanes, TVec>(sum, _check);
        TLanes.Store(TLanes.Multiply(sum, TLanes.Broadcast(scale)), output);
    }

    public readonly void Flush<TLanes, TVec>()
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged
    {
    }
}

/// <summary>What <see cref="SelectionKernel"/> computes from the ranks it selects.</summary>
internal enum SelectionMode
{
    /// <summary>The middle value (mean of the two middle values for even n).</summary>
    Median,

    /// <summary>The mean of ranks low..high.</summary>
    RankMean,

    /// <summary>The mean of the keep values closest to the median (a window of the sorted values).</summary>
    ClosestToMedian,
}

/// <summary>Per coordinate selection through a comparator network: median, trimmed mean, mean closest to the median.</summary>
internal unsafe struct SelectionKernel : IColumnKernel<SelectionKernel>
{
    private readonly int _rows;
    private readonly SelectionMode _mode;
    private readonly int _low;
    private readonly int _high;
    private readonly int* _pairs;
    private readonly int _comparators;
    private readonly int _compiled;
    private float* _check;

    /// <summary>
    /// A kernel over <paramref name="rows"/> inputs. For <see cref="SelectionMode.RankMean"/>, ranks low..high are
    /// averaged; for <see cref="SelectionMode.ClosestToMedian"/>, <paramref name="low"/> is the number kept.
    /// </summary>
    public SelectionKernel(int rows, SelectionMode mode, int low, int high, ComparatorNetwork network)
    {
        _rows = rows;
        _mode = mode;
        _low = low;
        _high = high;
        fixed (int* pairs = network.Pairs)
        {
            // The network's array is allocated pinned, so this address stays valid.
            _pairs = pairs;
        }

        _comparators = network.Count;
        _compiled = mode == SelectionMode.Median ? UnrolledNetworks.Median(rows) : UnrolledNetworks.Selection(rows, mode, low, high, network);
    }

    public readonly int ScratchFloats => (_rows + 1) * ColumnTiles.MaxWidth;

    public readonly bool HasCompiled => _compiled >= 0;

    public readonly void RunCompiled(float** rows, nint start, nint end, float* output) =>
        UnrolledNetworks.Get(_compiled)(rows, start, end, output, _check, null);

    /// <summary>False when a value was non-finite (or a sum overflowed).</summary>
    public readonly bool Finite => ColumnKernelParts.CheckPassed(_check);

    public readonly SelectionKernel Bind(float* scratch)
    {
        var bound = this;
        bound._check = scratch;
        new Span<float>(scratch, ColumnTiles.MaxWidth).Clear();
        return bound;
    }

    public readonly void Block<TLanes, TVec>(float** rowPointers, nint column, float* output)
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged
    {
        var v = (TVec*)(_check + ColumnTiles.MaxWidth);
        int n = _rows;
        var sum = ColumnKernelParts.LoadAndSum<TLanes, TVec>(rowPointers, column, n, v);
        ColumnKernelParts.Check<TLanes, TVec>(sum, _check);
        ColumnKernelParts.Sort<TLanes, TVec>(v, _pairs, _comparators);
        TVec result;
        switch (_mode)
        {
            case SelectionMode.Median:
                result = ColumnKernelParts.MedianOfSorted<TLanes, TVec>(v, n);
                break;
            case SelectionMode.RankMean:
                var total = v[_low];
                for (int r = _low + 1; r <= _high; r++)
                {
                    total = TLanes.Add(total, v[r]);
                }

                result = TLanes.Multiply(total, TLanes.Broadcast(1f / (_high - _low + 1)));
                break;
            default:
                result = ClosestToMedian<TLanes, TVec>(v, n, _low);
                break;
        }

        TLanes.Store(result, output);
    }

    public readonly void Flush<TLanes, TVec>()
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged
    {
    }

    /// <summary>
    /// The keep values closest to the median m form a window [s, s + keep) of the sorted values, s ∈ [0, n − keep].
    /// Moving the window right by one swaps v[s] for v[s + keep], which is closer exactly when v[s] + v[s + keep] &lt; 2m
    /// (ties keep the smaller value). That sum grows with s, so s is the count of steps where it holds; each rank is
    /// then summed under a mask rather than by sliding a running sum, which would cancel catastrophically next to
    /// huge Byzantine values.
    /// </summary>
    private static TVec ClosestToMedian<TLanes, TVec>(TVec* v, int n, int keep)
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged
    {
        var zero = TLanes.Broadcast(0f);
        var one = TLanes.Broadcast(1f);
        var twiceMedian = (n & 1) == 1 ? TLanes.Add(v[n / 2], v[n / 2]) : TLanes.Add(v[n / 2 - 1], v[n / 2]);
        int slack = n - keep;
        var start = zero;
        for (int s = 0; s < slack; s++)
        {
            start = TLanes.Add(start, TLanes.SelectLess(TLanes.Add(v[s], v[s + keep]), twiceMedian, one, zero));
        }

        var total = zero;
        for (int r = 0; r < n; r++)
        {
            var value = v[r];
            if (r < slack)
            {
                value = TLanes.SelectLess(start, TLanes.Broadcast(r + 0.5f), value, zero); // s ≤ r
            }

            if (r >= keep)
            {
                value = TLanes.SelectLess(TLanes.Broadcast(r - keep + 0.5f), start, value, zero); // s > r − keep
            }

            total = TLanes.Add(total, value);
        }

        return TLanes.Multiply(total, TLanes.Broadcast(1f / keep));
    }
}
