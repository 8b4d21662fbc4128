namespace Dstar.Core.Kernels;

/// <summary>
/// Per-coordinate selection over rows of a batch: median, trimmed mean, mean of the values closest to the median.
/// Every coordinate-wise rule calls these; they are the only place such loops are written.
/// </summary>
/// <remarks>
/// <para>
/// One pass over the rows in blocks of one register of columns (16 with AVX-512, 8 with AVX2, 1 without SIMD): the
/// block's n registers are sorted in place by a comparator network pruned to the ranks needed (only the dropped ends
/// for a trimmed mean, the ends and the median for Meamed; see
/// <see cref="ComparatorNetwork"/>), so the cost is O(n·d) reads plus O(n log² n) min/max per register, with the
/// working set (n registers) in L1. With AVX-512 and n ≤ 96 the network is compiled once per n into straight-line code
/// over registers (<see cref="UnrolledNetworks"/>); otherwise a generic loop applies it (Vector256, or scalar without
/// SIMD). The ragged end (d not a multiple of the width) goes through a zero-padded tile.
/// With degreeOfParallelism &gt; 1 the columns are split into two ranges (at most two threads; none below 32,768 columns).
/// </para>
/// <para>
/// Non-finite input is detected on the fly (a running sum of the loaded values) and reported through the return value
/// (false); the outputs are then unspecified and the caller drops the offending rows and calls again. A false return
/// can also mean finite values so large that their sum overflowed; a row scan tells the two apart.
/// </para>
/// </remarks>
public static unsafe class CoordinateSelection
{
    /// <summary>Per coordinate, the median of all rows (the mean of the two middle values when n is even).</summary>
    /// <remarks>Inputs should be finite; with NaN or ±∞ the output is unspecified.</remarks>
    /// <exception cref="ArgumentException">output length differs from d, or the batch is empty.</exception>
    public static void Median(GradientBatch batch, Span<float> output) =>
        Median(batch, RowPointers.All(batch.Count), output);

    /// <summary>Per coordinate, the median of the listed rows (the mean of the two middle values for an even count).</summary>
    /// <returns>False when a value was non-finite (or the rows' sum overflowed): the output is then unspecified.</returns>
    /// <exception cref="ArgumentException">no rows, a row index out of range, or output length differs from d.</exception>
    public static bool Median(GradientBatch batch, ReadOnlySpan<int> rows, Span<float> output, int degreeOfParallelism = 1) =>
        Select(batch, rows, output, SelectionMode.Median, 0, 0, degreeOfParallelism);

    /// <summary>Per coordinate, the mean of all rows after dropping the <paramref name="trim"/> largest and smallest values.</summary>
    /// <remarks>Inputs should be finite; with NaN or ±∞ the output is unspecified.</remarks>
    /// <exception cref="ArgumentException">n ≤ 2·trim, trim negative, or output length differs from d.</exception>
    public static void TrimmedMean(GradientBatch batch, int trim, Span<float> output) =>
        TrimmedMean(batch, RowPointers.All(batch.Count), trim, output);

    /// <summary>Per coordinate, the mean of ranks trim..n−trim−1 of the listed rows (n = rows.Length).</summary>
    /// <returns>False when a value was non-finite (or the rows' sum overflowed): the output is then unspecified.</returns>
    /// <exception cref="ArgumentException">n ≤ 2·trim, trim negative, a row out of range, or output length differs from d.</exception>
    public static bool TrimmedMean(GradientBatch batch, ReadOnlySpan<int> rows, int trim, Span<float> output, int degreeOfParallelism = 1)
    {
        if (trim < 0 || rows.Length <= 2 * trim)
        {
            throw new ArgumentException($"trimming {trim} from each end needs more than {2 * trim} rows, got {rows.Length}", nameof(trim));
        }

        return Select(batch, rows, output, SelectionMode.RankMean, trim, rows.Length - trim - 1, degreeOfParallelism);
    }

    /// <summary>
    /// Per coordinate, the mean of the <paramref name="keep"/> values (among <paramref name="rows"/>) closest to their
    /// median (Meamed; Bulyan's second phase). Ties in distance are broken by value, smaller first.
    /// </summary>
    /// <returns>False when a value was non-finite (or the rows' sum overflowed): the output is then unspecified.</returns>
    /// <exception cref="ArgumentException">keep outside 1..rows.Length, a row out of range, or output length differs from d.</exception>
    public static bool MeanClosestToMedian(GradientBatch batch, ReadOnlySpan<int> rows, int keep, Span<float> output, int degreeOfParallelism = 1)
    {
        if (keep < 1 || keep > rows.Length)
        {
            throw new ArgumentException($"keeping {keep} values closest to the median needs 1 ≤ keep ≤ {rows.Length} rows", nameof(keep));
        }

        return Select(batch, rows, output, SelectionMode.ClosestToMedian, keep, 0, degreeOfParallelism);
    }

    private static bool Select(GradientBatch batch, ReadOnlySpan<int> rows, Span<float> output, SelectionMode mode, int low, int high, int degreeOfParallelism)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int n = rows.Length, d = batch.Dimension;
        if (n == 0)
        {
            throw new ArgumentException("selection needs at least one row", nameof(rows));
        }

        if (output.Length != d)
        {
            throw new ArgumentException($"output has {output.Length} values, expected d = {d}", nameof(output));
        }

        var network = mode switch
        {
            SelectionMode.Median => ComparatorNetwork.Median(n),
            SelectionMode.RankMean => ComparatorNetwork.Outside(n, low, high, median: false),
            // The window's ends (ranks below n − keep and from keep up) and the median, around an unordered core.
            _ => low > n - low ? ComparatorNetwork.Outside(n, n - low, low - 1, median: true) : ComparatorNetwork.For(n, 0, n - 1),
        };
        var kernel = new SelectionKernel(n, mode, low, high, network);
        Span<nint> pointers = n <= RowPointers.StackLimit ? stackalloc nint[n] : new nint[n];
        Span<SelectionKernel> bound = stackalloc SelectionKernel[2];
        fixed (float* data = batch.Buffer)
        fixed (float* destination = output)
        fixed (nint* rowPointers = pointers)
        {
            RowPointers.Fill(data, d, batch.Count, rows, pointers);
            int workers = ColumnTiles.Run(kernel, (float**)rowPointers, n, d, destination, degreeOfParallelism, bound);
            bool finite = true;
            for (int w = 0; w < workers; w++)
            {
                finite &= bound[w].Finite;
            }

            return finite;
        }
    }
}
