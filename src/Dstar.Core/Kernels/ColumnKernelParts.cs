using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Dstar.Core.Kernels;

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
        if (KernelSettings.PrefetchFloats > 0 && Sse.IsSupported)
        {
            for (int p = 0; p < count; p++)
            {
                Sse.Prefetch0(rows[p] + column + KernelSettings.PrefetchFloats);
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
