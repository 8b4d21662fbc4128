using System.Runtime.Intrinsics;

namespace Dstar.Core.Kernels;

/// <summary>
/// One pass: per block, the centre c (median, median of bucket means, a given vector or 0) and, for every row, the
/// partial sums of (xᵢ − c)²; with dots (origin only), also the partial sums of xᵢ·y for y the pointer after the rows,
/// so that squared norms and dot products with one vector come from one read of the rows (y's block is loaded once
/// for all of them). Writes c when given an output. Float partial sums are flushed into doubles every 64
/// blocks, so a lane sums at most 64 float terms; a row whose float sum overflows (values past about 1.8e19) is
/// reported non-finite here and recomputed exactly by the caller.
/// </summary>
/// <remarks>
/// Compiled (AVX-512) median centre: per sweep of <see cref="SweepColumns"/> columns, the median network writes the
/// centres (to the output, or to L1 scratch when there is none), then the deviations are summed row by row over the
/// sweep, whose rows are still in L1. Fusing both per block kept n + 1 accumulators live beside the network's inputs
/// and spilled.
/// </remarks>
internal unsafe struct DeviationKernel : IColumnKernel<DeviationKernel>
{
    private readonly int _rows;
    private readonly bool _dots;
    private readonly CenterMode _mode;
    private readonly int _centerRows;
    private readonly int* _order;
    private readonly int _bucketSize;
    private readonly int* _pairs;
    private readonly int _comparators;
    private readonly int _compiled = -1;
    private float* _check;

    /// <summary>A kernel over <paramref name="rows"/> data rows.</summary>
    /// <param name="rows">Rows whose deviations are summed.</param>
    /// <param name="mode">Where the centre comes from.</param>
    /// <param name="centerRows">Median: the centre is the median of rows [0, centerRows). Buckets: how many rows are bucketed.</param>
    /// <param name="order">Buckets: the row order (pinned, length centerRows) cut into runs of <paramref name="bucketSize"/>.</param>
    /// <param name="bucketSize">Buckets: rows per bucket (the last may be smaller).</param>
    /// <param name="dots">Origin only: also Σ xᵢ·y, y = the pointer after the rows (see <see cref="AddDotsTo"/>).</param>
    public DeviationKernel(int rows, CenterMode mode, int centerRows = 0, int* order = null, int bucketSize = 1, bool dots = false)
    {
        if (dots && mode != CenterMode.Origin)
        {
            throw new ArgumentException("dot products are summed only beside squared norms (CenterMode.Origin)", nameof(dots));
        }

        _rows = rows;
        _dots = dots;
        _mode = mode;
        _centerRows = centerRows;
        _order = order;
        _bucketSize = bucketSize;
        int medianInputs = mode switch
        {
            CenterMode.Median => centerRows,
            CenterMode.MedianOfBucketMeans => Buckets,
            _ => 0,
        };
        if (medianInputs > 0)
        {
            var network = ComparatorNetwork.Median(medianInputs);
            fixed (int* pairs = network.Pairs)
            {
                _pairs = pairs; // allocated pinned
            }

            _comparators = network.Count;
            if (mode == CenterMode.Median)
            {
                // The centre is read back at once by the deviation sweep: ordinary stores.
                _compiled = UnrolledNetworks.Median(centerRows, streaming: false);
            }
        }
        else if (dots)
        {
            _compiled = UnrolledNetworks.NormsAndDots(rows);
        }
        else if (mode is CenterMode.Given or CenterMode.Origin)
        {
            _compiled = UnrolledNetworks.FixedCenterDeviations(rows, mode == CenterMode.Given);
        }
    }

    public readonly bool HasCompiled => _compiled >= 0;

    public readonly void RunCompiled(float** rows, nint start, nint end, float* output)
    {
        var compiled = UnrolledNetworks.Get(_compiled);
        if (_mode != CenterMode.Median)
        {
            compiled(rows, start, end, output, _check, Accumulators);
            return;
        }

        // The median network holds its inputs in registers; the deviations then go row by row over the same few
        // columns, re-read from L1, with four rows' accumulators live instead of all n (which spilled when fused).
        int sinceFlush = 0;
        for (nint sweep = start; sweep < end; sweep += SweepColumns)
        {
            nint sweepEnd = Math.Min(sweep + SweepColumns, end);
            // Without an output the centres go to L1 scratch, indexed as if it started at column `sweep`.
            float* centers = output != null ? output : Centers - sweep;
            compiled(rows, sweep, sweepEnd, centers, _check, null);
            AddSquaredDeviations(rows, _rows, sweep, sweepEnd, centers, Accumulators);
            if (++sinceFlush == UnrolledNetworks.FlushBlocks * 16 / SweepColumns)
            {
                FlushToLanes();
                sinceFlush = 0;
            }
        }
    }

    /// <summary>Adds the float accumulators into the per-lane doubles and clears them (as the compiled code does).</summary>
    private readonly void FlushToLanes()
    {
        for (int r = 0; r < _rows; r++)
        {
            var acc = Vector512.Load(Accumulators + r * 16);
            double* lanes = Lanes + r * 16;
            (Vector512.Load(lanes) + Vector512.WidenLower(acc)).Store(lanes);
            (Vector512.Load(lanes + 8) + Vector512.WidenUpper(acc)).Store(lanes + 8);
            Vector512<float>.Zero.Store(Accumulators + r * 16);
        }
    }

    /// <summary>Columns per sweep: the rows' slices (n × 1 KiB) stay in L1 between the median and the deviations.</summary>
    private const int SweepColumns = 256;

    /// <summary>accumulators[r] += (rows[r] − center)² per lane over whole 16-column blocks of [start, end), r &lt; n.</summary>
    /// <remarks>Each lane adds its blocks in column order, as <see cref="Block{TLanes, TVec}"/> does.</remarks>
    private static void AddSquaredDeviations(float** rows, int n, nint start, nint end, float* center, float* accumulators)
    {
        int r = 0;
        for (; r + 4 <= n; r += 4)
        {
            float* p0 = rows[r], p1 = rows[r + 1], p2 = rows[r + 2], p3 = rows[r + 3];
            float* a = accumulators + r * 16;
            Vector512<float> a0 = Vector512.Load(a), a1 = Vector512.Load(a + 16), a2 = Vector512.Load(a + 32), a3 = Vector512.Load(a + 48);
            for (nint c = start; c < end; c += 16)
            {
                var m = Vector512.Load(center + c);
                var d0 = Vector512.Load(p0 + c) - m;
                var d1 = Vector512.Load(p1 + c) - m;
                var d2 = Vector512.Load(p2 + c) - m;
                var d3 = Vector512.Load(p3 + c) - m;
                a0 = Vector512.FusedMultiplyAdd(d0, d0, a0);
                a1 = Vector512.FusedMultiplyAdd(d1, d1, a1);
                a2 = Vector512.FusedMultiplyAdd(d2, d2, a2);
                a3 = Vector512.FusedMultiplyAdd(d3, d3, a3);
            }

            a0.Store(a);
            a1.Store(a + 16);
            a2.Store(a + 32);
            a3.Store(a + 48);
        }

        for (; r < n; r++)
        {
            float* p = rows[r];
            float* a = accumulators + r * 16;
            var sum = Vector512.Load(a);
            for (nint c = start; c < end; c += 16)
            {
                var d = Vector512.Load(p + c) - Vector512.Load(center + c);
                sum = Vector512.FusedMultiplyAdd(d, d, sum);
            }

            sum.Store(a);
        }
    }

    private readonly int Buckets => (_centerRows + _bucketSize - 1) / _bucketSize;

    private readonly int MedianInputs => _mode == CenterMode.Median ? _centerRows : _mode == CenterMode.MedianOfBucketMeans ? Buckets : 0;

    // Sums kept per worker: one per row, or two (squared norm, then dot product) with dots.
    private readonly int SumCount => _dots ? 2 * _rows : _rows;

    // Check, values, median inputs; then per sum a float accumulator, 16 double lanes and one double.
    public readonly int ScratchFloats => (1 + _rows + MedianInputs + 3 * SumCount) * ColumnTiles.MaxWidth + CenterFloats + 2 * SumCount;

    // The compiled median pass keeps one sweep of centres here when the caller does not want them written out.
    private readonly int CenterFloats => _mode == CenterMode.Median ? SweepColumns : 0;

    private readonly float* Centers => _check + ColumnTiles.MaxWidth;

    private readonly float* Values => Centers + CenterFloats;

    private readonly float* Work => Values + _rows * ColumnTiles.MaxWidth;

    private readonly float* Accumulators => Work + MedianInputs * ColumnTiles.MaxWidth;

    // Per-lane double sums (16 per row) that compiled code flushes the float accumulators into, every
    // UnrolledNetworks.FlushBlocks blocks; Flush folds them into Sums.
    private readonly double* Lanes => (double*)(Accumulators + SumCount * ColumnTiles.MaxWidth);

    private readonly double* Sums => Lanes + SumCount * ColumnTiles.MaxWidth;

    /// <summary>False when a value was non-finite (or a sum overflowed).</summary>
    public readonly bool Finite => ColumnKernelParts.CheckPassed(_check);

    /// <summary>Adds this worker's Σⱼ (xᵢⱼ − cⱼ)² to <paramref name="squared"/>[i].</summary>
    public readonly void AddTo(Span<double> squared)
    {
        for (int i = 0; i < _rows; i++)
        {
            squared[i] += Sums[i];
        }
    }

    /// <summary>Adds this worker's Σⱼ xᵢⱼ·yⱼ to <paramref name="dots"/>[i] (a kernel made with dots).</summary>
    public readonly void AddDotsTo(Span<double> dots)
    {
        for (int i = 0; i < _rows; i++)
        {
            dots[i] += Sums[_rows + i];
        }
    }

    public readonly DeviationKernel Bind(float* scratch)
    {
        var bound = this;
        bound._check = scratch;
        new Span<float>(scratch, ScratchFloats).Clear();
        return bound;
    }

    public readonly void Block<TLanes, TVec>(float** rowPointers, nint column, float* output)
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged
    {
        var v = (TVec*)Values;
        var w = (TVec*)Work;
        var acc = (TVec*)Accumulators;
        int n = _rows;
        var sum = ColumnKernelParts.LoadAndSum<TLanes, TVec>(rowPointers, column, n, v);
        ColumnKernelParts.Check<TLanes, TVec>(sum, _check);
        TVec center;
        switch (_mode)
        {
            case CenterMode.Median:
                for (int r = 0; r < _centerRows; r++)
                {
                    w[r] = v[r];
                }

                ColumnKernelParts.Sort<TLanes, TVec>(w, _pairs, _comparators);
                center = ColumnKernelParts.MedianOfSorted<TLanes, TVec>(w, _centerRows);
                break;
            case CenterMode.MedianOfBucketMeans:
                int buckets = Buckets;
                for (int b = 0; b < buckets; b++)
                {
                    int first = b * _bucketSize, last = Math.Min(first + _bucketSize, _centerRows);
                    var bucketSum = v[_order[first]];
                    for (int r = first + 1; r < last; r++)
                    {
                        bucketSum = TLanes.Add(bucketSum, v[_order[r]]);
                    }

                    w[b] = TLanes.Multiply(bucketSum, TLanes.Broadcast(1f / (last - first)));
                }

                ColumnKernelParts.Sort<TLanes, TVec>(w, _pairs, _comparators);
                center = ColumnKernelParts.MedianOfSorted<TLanes, TVec>(w, buckets);
                break;
            case CenterMode.Given:
                center = TLanes.Load(rowPointers[n] + column);
                break;
            default:
                center = TLanes.Broadcast(0f);
                break;
        }

        for (int r = 0; r < n; r++)
        {
            var diff = TLanes.Subtract(v[r], center);
            acc[r] = TLanes.MultiplyAdd(diff, diff, acc[r]);
        }

        if (_dots)
        {
            var y = TLanes.Load(rowPointers[n] + column);
            for (int r = 0; r < n; r++)
            {
                acc[n + r] = TLanes.MultiplyAdd(v[r], y, acc[n + r]);
            }
        }

        if (output != null)
        {
            TLanes.Store(center, output);
        }
    }

    public readonly void Flush<TLanes, TVec>()
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged
    {
        var acc = (TVec*)Accumulators;
        var zero = TLanes.Broadcast(0f);
        int sums = SumCount;
        for (int r = 0; r < sums; r++)
        {
            Sums[r] += TLanes.SumToDouble(acc[r]);
            acc[r] = zero;
        }

        if (_compiled >= 0)
        {
            var lanes = new Span<double>(Lanes, sums * ColumnTiles.MaxWidth);
            for (int r = 0; r < sums; r++)
            {
                Sums[r] += Vector512.Sum(Vector512.Create(lanes.Slice(r * 16, 8))) + Vector512.Sum(Vector512.Create(lanes.Slice(r * 16 + 8, 8)));
            }

            lanes.Clear();
        }
    }
}
