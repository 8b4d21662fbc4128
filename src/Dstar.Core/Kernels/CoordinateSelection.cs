namespace Dstar.Core.Kernels;

/// <summary>
/// Per-coordinate selection over the rows of a batch: median, trimmed sums, mean of the values closest to the median.
/// Every coordinate-wise rule calls these; they are the only place such loops are written.
/// </summary>
/// <remarks>Inputs must be finite; rules remove non-finite rows before calling.</remarks>
public static class CoordinateSelection
{
    /// <summary>Per coordinate, the median of the rows (the mean of the two middle values when n is even).</summary>
    public static void Median(GradientBatch batch, Span<float> output) =>
        Apply(batch, AllRows(batch), output, static column => MedianOf(column));

    /// <summary>Per coordinate, the mean of the rows after dropping the <paramref name="trim"/> largest and smallest values.</summary>
    public static void TrimmedMean(GradientBatch batch, int trim, Span<float> output) =>
        Apply(batch, AllRows(batch), output, column =>
        {
            column.Sort();
            double sum = 0;
            for (int i = trim; i < column.Length - trim; i++)
            {
                sum += column[i];
            }

            return (float)(sum / (column.Length - 2 * trim));
        });

    /// <summary>
    /// Per coordinate, the mean of the <paramref name="keep"/> values (among <paramref name="rows"/>) closest to their median
    /// (Meamed; Bulyan's second phase). Ties in distance are broken by value, smaller first.
    /// </summary>
    public static void MeanClosestToMedian(GradientBatch batch, ReadOnlySpan<int> rows, int keep, Span<float> output) =>
        Apply(batch, rows, output, column =>
        {
            var median = MedianOf(column);
            var byDistance = column.ToArray();
            Array.Sort(byDistance, (a, b) =>
            {
                int c = Math.Abs(a - median).CompareTo(Math.Abs(b - median));
                return c != 0 ? c : a.CompareTo(b);
            });
            double sum = 0;
            for (int i = 0; i < keep; i++)
            {
                sum += byDistance[i];
            }

            return (float)(sum / keep);
        });

    private static float MedianOf(Span<float> column)
    {
        column.Sort();
        int n = column.Length;
        return n % 2 == 1 ? column[n / 2] : (float)(((double)column[n / 2 - 1] + column[n / 2]) / 2);
    }

    private static int[] AllRows(GradientBatch batch) => Enumerable.Range(0, batch.Count).ToArray();

    private delegate float ColumnReducer(Span<float> column);

    private static void Apply(GradientBatch batch, ReadOnlySpan<int> rows, Span<float> output, ColumnReducer reduce)
    {
        var column = new float[rows.Length];
        var data = batch.Buffer;
        int d = batch.Dimension;
        for (int j = 0; j < d; j++)
        {
            for (int r = 0; r < rows.Length; r++)
            {
                column[r] = data[rows[r] * d + j];
            }

            output[j] = reduce(column);
        }
    }
}
