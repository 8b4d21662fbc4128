namespace Dstar.Core.Kernels;

/// <summary>Turns row indices of a pinned batch into the row pointers the column kernels read.</summary>
internal static unsafe class RowPointers
{
    /// <summary>Largest pointer list placed on the stack; longer lists (n past this) go to the heap.</summary>
    public const int StackLimit = 512;

    /// <summary>Writes the address of each listed row of <paramref name="data"/> (rows of <paramref name="dimension"/> floats).</summary>
    /// <exception cref="ArgumentOutOfRangeException">a row index is outside 0..<paramref name="count"/>−1.</exception>
    public static void Fill(float* data, int dimension, int count, ReadOnlySpan<int> rows, Span<nint> pointers)
    {
        for (int i = 0; i < rows.Length; i++)
        {
            int row = rows[i];
            if ((uint)row >= (uint)count)
            {
                throw new ArgumentOutOfRangeException(nameof(rows), $"row {row} is outside 0..{count - 1}");
            }

            pointers[i] = (nint)(data + (long)row * dimension);
        }
    }

    /// <summary>0..n−1 (the report's kept list when no row is dropped).</summary>
    public static int[] All(int n)
    {
        var rows = new int[n];
        for (int i = 0; i < n; i++)
        {
            rows[i] = i;
        }

        return rows;
    }

    /// <summary>0..n−1 without the ascending list <paramref name="dropped"/>.</summary>
    public static int[] Without(int n, IReadOnlyList<int> dropped)
    {
        var rows = new int[n - dropped.Count];
        int next = 0, k = 0;
        for (int i = 0; i < n; i++)
        {
            if (next < dropped.Count && dropped[next] == i)
            {
                next++;
            }
            else
            {
                rows[k++] = i;
            }
        }

        return rows;
    }
}
