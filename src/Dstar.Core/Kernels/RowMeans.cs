using System.Buffers;

namespace Dstar.Core.Kernels;

/// <summary>
/// Means of a subset of rows (plus an optional extra vector such as g₀) through the column-pass kernels, compiled for
/// AVX-512 (<see cref="RowSumKernel"/>), and the mean-like step of centered clipping, c + Σ wᵢ (xᵢ − c)
/// (<see cref="WeightedStepKernel"/>). One pass over the rows in register-wide column blocks. Sums with arbitrary
/// weights, which the compiled kernels do not cover, are <see cref="WeightedRowSums"/>.
/// </summary>
internal static unsafe class RowMeans
{
    /// <summary>
    /// output = (Σ_{i ∈ rows} xᵢ + extra) / (|rows| + [extra given]).
    /// </summary>
    /// <returns>False when a value was non-finite (or a sum overflowed); the output is then unspecified.</returns>
    public static bool Mean(GradientBatch batch, ReadOnlySpan<int> rows, ReadOnlySpan<float> extra, Span<float> output, int degreeOfParallelism = 1)
    {
        int d = batch.Dimension;
        int count = rows.Length + (extra.IsEmpty ? 0 : 1);
        if (count == 0)
        {
            throw new ArgumentException("a mean needs at least one row", nameof(rows));
        }

        if (output.Length != d || (!extra.IsEmpty && extra.Length != d))
        {
            throw new ArgumentException($"output and extra row need d = {d} values, got {output.Length} and {extra.Length}", nameof(output));
        }

        var kernel = new RowSumKernel(count, 1f / count);
        Span<nint> pointers = count <= RowPointers.StackLimit ? stackalloc nint[count] : new nint[count];
        Span<RowSumKernel> bound = stackalloc RowSumKernel[2];
        fixed (float* data = batch.Buffer)
        fixed (float* extraData = extra)
        fixed (float* destination = output)
        fixed (nint* rowPointers = pointers)
        {
            RowPointers.Fill(data, d, batch.Count, rows, pointers);
            if (!extra.IsEmpty)
            {
                pointers[rows.Length] = (nint)extraData;
            }

            if (count > StreamGroups.Rows)
            {
                return GroupedMean((float**)rowPointers, count, d, destination, degreeOfParallelism);
            }

            int workers = ColumnTiles.Run(kernel, (float**)rowPointers, count, d, destination, degreeOfParallelism, bound);
            bool finite = true;
            for (int w = 0; w < workers; w++)
            {
                finite &= bound[w].Finite;
            }

            return finite;
        }
    }

    /// <summary>
    /// The mean of more rows than are read well side by side (<see cref="StreamGroups"/>): per tile of columns, the
    /// first group's sum goes to a tile-sized buffer that stays in L2, each later group adds itself and that buffer
    /// (one stream more), and the last scales by 1/count and writes the output.
    /// </summary>
    private static bool GroupedMean(float** pointers, int count, int d, float* output, int degreeOfParallelism)
    {
        int tileColumns = StreamGroups.TileColumns;
        var partial = ArrayPool<float>.Shared.Rent(tileColumns);
        Span<nint> group = stackalloc nint[StreamGroups.Rows];
        Span<RowSumKernel> bound = stackalloc RowSumKernel[2];
        bool finite = true;
        try
        {
            fixed (float* sum = partial)
            fixed (nint* groupPointers = group)
            {
                for (int tile = 0; tile < d; tile += tileColumns)
                {
                    int length = Math.Min(tileColumns, d - tile);
                    int first = Math.Min(StreamGroups.Rows, count);
                    for (int r = 0; r < first; r++)
                    {
                        group[r] = (nint)(pointers[r] + tile);
                    }

                    ColumnTiles.Run(new RowSumKernel(first, 1f, streaming: false), (float**)groupPointers, first, length, sum, degreeOfParallelism, bound);
                    for (int next = first; next < count;)
                    {
                        // Later groups: up to Rows − 1 rows plus the running sum.
                        int size = Math.Min(StreamGroups.Rows - 1, count - next);
                        for (int r = 0; r < size; r++)
                        {
                            group[r] = (nint)(pointers[next + r] + tile);
                        }

                        group[size] = (nint)sum;
                        next += size;
                        bool last = next == count;
                        var kernel = last ? new RowSumKernel(size + 1, 1f / count) : new RowSumKernel(size + 1, 1f, streaming: false);
                        int workers = ColumnTiles.Run(kernel, (float**)groupPointers, size + 1, length, last ? output + tile : sum, degreeOfParallelism, bound);
                        for (int w = 0; last && w < workers; w++)
                        {
                            // The last group's sum holds every earlier one: non-finite anywhere shows here.
                            finite &= bound[w].Finite;
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(partial);
        }

        return finite;
    }

    /// <summary>
    /// output = c + Σᵢ wᵢ (xᵢ − c) (or Σᵢ wᵢ xᵢ when <paramref name="center"/> is null) for more rows than are read well
    /// side by side: per tile, the first group writes c + Σ_group wᵢ (xᵢ − c) into a running buffer in L2; every later
    /// group adds its terms to it, written as the step kernel over its rows plus the buffer with weight 1
    /// (c + Σ wᵢ (xᵢ − c) + (s − c) = s + Σ wᵢ (xᵢ − c)); the last writes the output. Each group reads at most 14 rows,
    /// c and the buffer (15 rows and the buffer without a centre).
    /// </summary>
    private static void GroupedStep(float** pointers, int n, int d, float* weights, float* center, float* output, int degreeOfParallelism)
    {
        int tileColumns = StreamGroups.TileColumns;
        bool centered = center != null;
        int groupRows = StreamGroups.Rows - (centered ? 2 : 1);
        var running = ArrayPool<float>.Shared.Rent(tileColumns);
        Span<nint> group = stackalloc nint[groupRows + 2];
        Span<float> groupWeights = stackalloc float[groupRows + 1];
        Span<WeightedStepKernel> bound = stackalloc WeightedStepKernel[2];
        try
        {
            fixed (float* sum = running)
            fixed (nint* groupPointers = group)
            fixed (float* weightData = groupWeights)
            {
                for (int tile = 0; tile < d; tile += tileColumns)
                {
                    int length = Math.Min(tileColumns, d - tile);
                    for (int first = 0; first < n;)
                    {
                        int size = Math.Min(first == 0 ? groupRows + 1 : groupRows, n - first);
                        for (int r = 0; r < size; r++)
                        {
                            group[r] = (nint)(pointers[first + r] + tile);
                            groupWeights[r] = weights[first + r];
                        }

                        int rows = size;
                        if (first > 0)
                        {
                            group[rows] = (nint)sum;
                            groupWeights[rows] = 1f;
                            rows++;
                        }

                        if (centered)
                        {
                            group[rows] = (nint)(center + tile);
                        }

                        first += size;
                        bool last = first == n;
                        var kernel = new WeightedStepKernel(rows, weightData, streaming: last, centered);
                        ColumnTiles.Run(kernel, (float**)groupPointers, rows + (centered ? 1 : 0), length, last ? output + tile : sum, degreeOfParallelism, bound);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(running);
        }
    }

    /// <summary>center ← center + Σᵢ weights[i]·(x_rows[i] − center), in place.</summary>
    public static void Step(GradientBatch batch, ReadOnlySpan<int> rows, ReadOnlySpan<float> weights, Span<float> center, int degreeOfParallelism = 1) =>
        Step(batch, rows, weights, center, center, degreeOfParallelism);

    /// <summary>
    /// output = c + Σᵢ weights[i]·(xᵢ − c), xᵢ = the listed rows and then <paramref name="extra"/> when given (its weight
    /// is weights[rows.Length]); c = <paramref name="center"/>, or 0 when it is empty, which makes this the weighted sum
    /// Σᵢ weights[i]·xᵢ. One pass, the output written once (non-temporal stores where available).
    /// <paramref name="output"/> may be <paramref name="center"/> itself (in place) or separate memory; partial overlap
    /// is not allowed.
    /// </summary>
    /// <exception cref="ArgumentException">fewer weights than terms, or a centre, extra row or output that is not d long.</exception>
    public static void Step(GradientBatch batch, ReadOnlySpan<int> rows, ReadOnlySpan<float> weights, ReadOnlySpan<float> center, Span<float> output, int degreeOfParallelism = 1, ReadOnlySpan<float> extra = default)
    {
        int n = rows.Length + (extra.IsEmpty ? 0 : 1), d = batch.Dimension;
        bool centered = !center.IsEmpty;
        if (weights.Length < n || (centered && center.Length != d) || output.Length != d || (!extra.IsEmpty && extra.Length != d))
        {
            throw new ArgumentException($"step needs {n} weights and a centre, extra row and output of d = {d}, got {weights.Length}, {center.Length}, {extra.Length} and {output.Length}", nameof(weights));
        }

        if (n == 0 && !centered)
        {
            output.Clear();
            return;
        }

        int pointerCount = n + (centered ? 1 : 0);
        Span<nint> pointers = pointerCount <= RowPointers.StackLimit ? stackalloc nint[pointerCount] : new nint[pointerCount];
        Span<WeightedStepKernel> bound = stackalloc WeightedStepKernel[2];
        fixed (float* data = batch.Buffer)
        fixed (float* weightData = weights)
        fixed (float* centerData = center)
        fixed (float* extraData = extra)
        fixed (float* destination = output)
        fixed (nint* rowPointers = pointers)
        {
            RowPointers.Fill(data, d, batch.Count, rows, pointers);
            if (!extra.IsEmpty)
            {
                pointers[rows.Length] = (nint)extraData;
            }

            if (centered)
            {
                pointers[n] = (nint)centerData;
            }

            // Grouped past 16 rows; the extra row, like the centre, rides along (17 or 18 streams read side by side
            // cost less than a second group over L2 tiles: 16 rows and g₀ at 0.8× a read against 1.05×).
            if (rows.Length > StreamGroups.Rows)
            {
                GroupedStep((float**)rowPointers, n, d, weightData, centered ? centerData : null, destination, degreeOfParallelism);
                return;
            }

            ColumnTiles.Run(new WeightedStepKernel(n, weightData, centered: centered), (float**)rowPointers, pointerCount, d, destination, degreeOfParallelism, bound);
        }
    }
}
