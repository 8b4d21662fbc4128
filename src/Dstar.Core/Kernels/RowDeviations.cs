namespace Dstar.Core.Kernels;

/// <summary>
/// Squared Euclidean deviations ‖xᵢ − c‖² of rows from a centre c computed in the same pass (coordinate-wise median,
/// median of bucket means) or given (a vector, or the origin for squared norms), and squared norms together with dot
/// products xᵢ·y. dSTAR, centered clipping, static clipping and ARC call this; it is the one place such a loop is
/// written.
/// </summary>
/// <remarks>
/// Sums are formed per lane in float over at most 64 blocks, then in double. A row whose float partial sum
/// overflows (values beyond about 1.8e19) or that holds NaN/±∞ comes back non-finite; <see cref="Exact"/> then
/// recomputes a finite row in double, so huge Byzantine rows get their true (huge) deviation.
/// </remarks>
internal static unsafe class RowDeviations
{
    /// <summary>
    /// squared[i] = Σⱼ (pᵢⱼ − cⱼ)² for the pointers p = the listed rows, then <paramref name="extra"/> when given.
    /// Median: c = median of the first <paramref name="centerRows"/> pointers. Buckets: c = median of the means of
    /// consecutive runs of <paramref name="bucketSize"/> pointers taken in <paramref name="order"/>. Given: c =
    /// <paramref name="center"/>. Origin: c = 0. The centre is written to <paramref name="centerOutput"/> when not empty.
    /// </summary>
    /// <returns>False when a value was non-finite or a sum overflowed.</returns>
    public static bool Squared(
        GradientBatch batch,
        ReadOnlySpan<int> rows,
        ReadOnlySpan<float> extra,
        CenterMode mode,
        Span<double> squared,
        Span<float> centerOutput,
        int degreeOfParallelism = 1,
        int centerRows = 0,
        ReadOnlySpan<int> order = default,
        int bucketSize = 1,
        ReadOnlySpan<float> center = default)
    {
        int d = batch.Dimension;
        int count = rows.Length + (extra.IsEmpty ? 0 : 1);
        int pointerCount = count + (mode == CenterMode.Given ? 1 : 0);
        if (count == 0 || squared.Length < count)
        {
            throw new ArgumentException($"deviations of {count} rows need at least one row and {count} outputs", nameof(rows));
        }

        if ((!extra.IsEmpty && extra.Length != d) || (!centerOutput.IsEmpty && centerOutput.Length != d) || (mode == CenterMode.Given && center.Length != d))
        {
            throw new ArgumentException($"every vector must have d = {d} values", nameof(extra));
        }

        Span<nint> pointers = pointerCount <= RowPointers.StackLimit ? stackalloc nint[pointerCount] : new nint[pointerCount];
        Span<DeviationKernel> bound = stackalloc DeviationKernel[2];
        fixed (float* data = batch.Buffer)
        fixed (float* extraData = extra)
        fixed (float* centerData = center)
        fixed (float* output = centerOutput)
        fixed (int* orderData = order)
        fixed (nint* rowPointers = pointers)
        {
            RowPointers.Fill(data, d, batch.Count, rows, pointers);
            if (!extra.IsEmpty)
            {
                pointers[rows.Length] = (nint)extraData;
            }

            if (mode == CenterMode.Given)
            {
                pointers[count] = (nint)centerData;
            }

            if (mode is CenterMode.Given or CenterMode.Origin && count > StreamGroups.Rows)
            {
                return GroupedFixedCenter((float**)rowPointers, count, d, mode == CenterMode.Given ? centerData : null, dots: false, squared, default, degreeOfParallelism);
            }

            var kernel = new DeviationKernel(count, mode, centerRows, orderData, bucketSize);
            int workers = ColumnTiles.Run(kernel, (float**)rowPointers, pointerCount, d, centerOutput.IsEmpty ? null : output, degreeOfParallelism, bound);
            squared[..count].Clear();
            bool finite = true;
            for (int w = 0; w < workers; w++)
            {
                bound[w].AddTo(squared);
                finite &= bound[w].Finite;
            }

            for (int i = 0; i < count; i++)
            {
                finite &= double.IsFinite(squared[i]);
            }

            return finite;
        }
    }

    /// <summary>
    /// squared[i] = ‖x_rows[i]‖² and dots[i] = x_rows[i]·y, in one read of the rows: per block of columns, y's block is
    /// loaded once and serves every row (more than <see cref="StreamGroups.Rows"/> rows go 15 at a time beside y, tile
    /// by tile, with y's tile then read from L2). Sums as in <see cref="Squared"/>: float per lane over at most 64
    /// blocks, then double.
    /// </summary>
    /// <returns>
    /// False when a value was non-finite or a float sum overflowed; each such row then has a non-finite squared norm or
    /// dot product (NaN/±∞ values, or finite values too large for float sums, which <see cref="Exact"/> and
    /// <see cref="ExactDot"/> recompute).
    /// </returns>
    /// <exception cref="ArgumentException">no rows, outputs shorter than the rows, or y not d long.</exception>
    public static bool NormsAndDots(GradientBatch batch, ReadOnlySpan<int> rows, ReadOnlySpan<float> vector, Span<double> squared, Span<double> dots, int degreeOfParallelism = 1)
    {
        int d = batch.Dimension, count = rows.Length;
        if (count == 0 || squared.Length < count || dots.Length < count)
        {
            throw new ArgumentException($"norms and dot products of {count} rows need at least one row and {count} outputs each", nameof(rows));
        }

        if (vector.Length != d)
        {
            throw new ArgumentException($"the vector has {vector.Length} values, expected d = {d}", nameof(vector));
        }

        Span<nint> pointers = count <= RowPointers.StackLimit ? stackalloc nint[count] : new nint[count];
        fixed (float* data = batch.Buffer)
        fixed (float* vectorData = vector)
        fixed (nint* rowPointers = pointers)
        {
            RowPointers.Fill(data, d, batch.Count, rows, pointers);
            return GroupedFixedCenter((float**)rowPointers, count, d, vectorData, dots: true, squared, dots, degreeOfParallelism);
        }
    }

    /// <summary>
    /// Deviations from a given centre (or 0), or squared norms and dot products with a vector (<paramref name="dots"/>,
    /// the vector in <paramref name="center"/>), tile by tile a group of rows at a time (15 rows and the centre or
    /// vector, or 16 rows from the origin), so that at most 16 streams are read side by side. Up to 16 rows are one
    /// group over all columns.
    /// </summary>
    private static bool GroupedFixedCenter(float** rows, int count, int d, float* center, bool dots, Span<double> squared, Span<double> dotOutput, int degreeOfParallelism)
    {
        squared[..count].Clear();
        if (dots)
        {
            dotOutput[..count].Clear();
        }

        bool finite = true;
        int groupRows = count <= StreamGroups.Rows ? count : StreamGroups.Rows - (center == null ? 0 : 1);
        int tileColumns = count <= StreamGroups.Rows ? d : StreamGroups.TileColumns;
        Span<nint> group = stackalloc nint[StreamGroups.Rows + 1];
        Span<DeviationKernel> bound = stackalloc DeviationKernel[2];
        var mode = center == null || dots ? CenterMode.Origin : CenterMode.Given;
        fixed (nint* groupPointers = group)
        {
            for (int tile = 0; tile < d; tile += tileColumns)
            {
                int length = Math.Min(tileColumns, d - tile);
                for (int first = 0; first < count; first += groupRows)
                {
                    int size = Math.Min(groupRows, count - first);
                    for (int r = 0; r < size; r++)
                    {
                        group[r] = (nint)(rows[first + r] + tile);
                    }

                    if (center != null)
                    {
                        group[size] = (nint)(center + tile);
                    }

                    var kernel = new DeviationKernel(size, mode, dots: dots);
                    int workers = ColumnTiles.Run(kernel, (float**)groupPointers, size + (center == null ? 0 : 1), length, null, degreeOfParallelism, bound);
                    for (int w = 0; w < workers; w++)
                    {
                        bound[w].AddTo(squared.Slice(first, size));
                        if (dots)
                        {
                            bound[w].AddDotsTo(dotOutput.Slice(first, size));
                        }

                        finite &= bound[w].Finite;
                    }
                }
            }
        }

        for (int i = 0; i < count; i++)
        {
            finite &= double.IsFinite(squared[i]) && (!dots || double.IsFinite(dotOutput[i]));
        }

        return finite;
    }

    /// <summary>Σⱼ rowⱼ·yⱼ in double: the slow, exact path for rows whose float dot product overflows.</summary>
    public static double ExactDot(ReadOnlySpan<float> row, ReadOnlySpan<float> vector)
    {
        double sum = 0;
        for (int j = 0; j < row.Length; j++)
        {
            sum += (double)row[j] * vector[j];
        }

        return sum;
    }

    /// <summary>Σⱼ (rowⱼ − cⱼ)² in double (c = 0 when <paramref name="center"/> is empty): the slow, exact path for huge rows.</summary>
    public static double Exact(ReadOnlySpan<float> row, ReadOnlySpan<float> center)
    {
        double sum = 0;
        for (int j = 0; j < row.Length; j++)
        {
            double diff = (double)row[j] - (center.IsEmpty ? 0.0 : center[j]);
            sum += diff * diff;
        }

        return sum;
    }
}
