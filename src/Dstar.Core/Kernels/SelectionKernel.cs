namespace Dstar.Core.Kernels;

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
