namespace Dstar.Core.Kernels;

/// <summary>
/// The drop-and-retry step every rule shares: a fused pass reports non-finite input (it cannot say which row), the
/// rows are scanned once, and the rule runs again on the finite ones. Honest rounds never pay for the scan.
/// </summary>
internal static class FiniteRows
{
    /// <summary>
    /// Scans the batch after a pass reported non-finite input. Returns the finite rows and the dropped ones; when no
    /// row holds NaN/±∞ (the alarm came from an overflowing sum of huge finite values) both lists say so and the
    /// caller keeps its result.
    /// </summary>
    public static (int[] Kept, int[] Dropped) Scan(GradientBatch batch)
    {
        var dropped = NonFinite.Rows(batch);
        return (dropped.Length == 0 ? RowPointers.All(batch.Count) : RowPointers.Without(batch.Count, dropped), dropped);
    }
}
