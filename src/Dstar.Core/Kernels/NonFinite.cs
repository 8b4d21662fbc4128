using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Dstar.Core.Kernels;

/// <summary>Finding rows that hold NaN or ±∞ (vectorised: the server checks every accepted gradient).</summary>
public static class NonFinite
{
    /// <summary>
    /// True when every value of <paramref name="values"/> is finite; an empty span counts as finite. The largest
    /// magnitude is NaN when any value is NaN and +∞ when any is ±∞ (TensorPrimitives.MaxMagnitude propagates NaN),
    /// so one vectorised reduction decides.
    /// </summary>
    public static bool AllFinite(ReadOnlySpan<float> values) =>
        values.IsEmpty || float.IsFinite(TensorPrimitives.MaxMagnitude(values));

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="destination"/> (same length) and returns whether every
    /// value was finite, in one pass over the data: x − x is 0 for a finite x and NaN for NaN and ±∞.
    /// </summary>
    /// <exception cref="ArgumentException">the spans differ in length.</exception>
    public static bool CopyAndCheck(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (source.Length != destination.Length)
        {
            throw new ArgumentException($"source has {source.Length} values, destination {destination.Length}");
        }

        int i = 0;
        bool finite = true;
        if (Vector.IsHardwareAccelerated && source.Length >= Vector<float>.Count)
        {
            var src = MemoryMarshal.Cast<float, Vector<float>>(source);
            var dst = MemoryMarshal.Cast<float, Vector<float>>(destination);
            var bad = Vector<int>.Zero;
            for (int v = 0; v < src.Length; v++)
            {
                var x = src[v];
                dst[v] = x;
                bad |= ~Vector.Equals(x - x, Vector<float>.Zero);
            }

            finite = bad == Vector<int>.Zero;
            i = src.Length * Vector<float>.Count;
        }

        for (; i < source.Length; i++)
        {
            float x = source[i];
            destination[i] = x;
            finite &= float.IsFinite(x);
        }

        return finite;
    }

    /// <summary>Indices of the rows of <paramref name="batch"/> that hold a non-finite value, ascending.</summary>
    public static int[] Rows(GradientBatch batch)
    {
        List<int>? bad = null;
        for (int i = 0; i < batch.Count; i++)
        {
            if (!AllFinite(batch.Row(i)))
            {
                (bad ??= new List<int>()).Add(i);
            }
        }

        return bad is null ? Array.Empty<int>() : bad.ToArray();
    }
}
