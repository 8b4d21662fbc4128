namespace Dstar.Core.Kernels;

/// <summary>Finding rows that hold NaN or ±∞.</summary>
public static class NonFinite
{
    /// <summary>True when every value of <paramref name="values"/> is finite.</summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        // x − x is 0 for finite x and NaN for NaN and ±∞, so one sum catches both.
        float acc = 0f;
        foreach (var v in values)
        {
            acc += v - v;
        }

        return acc == 0f;
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
