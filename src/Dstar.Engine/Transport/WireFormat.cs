namespace Dstar.Engine.Transport;

/// <summary>
/// How a worker encodes its gradient on the wire (config key <c>wire</c>): IEEE float32 (exact), bfloat16 (float32's
/// range, 8 significant bits) or IEEE float16 (range ±65504, 11 significant bits). The server decodes every format to
/// float32; the rule sees the decoded values. Parameters always travel as float32.
/// </summary>
public enum WireFormat
{
    /// <summary>4 bytes per value, exact.</summary>
    Float32,

    /// <summary>2 bytes per value: the top half of the float32, rounded to nearest even.</summary>
    BFloat16,

    /// <summary>2 bytes per value: IEEE 754 binary16, rounded to nearest even.</summary>
    Float16,
}

/// <summary>Names, sizes and ranges of the <see cref="WireFormat"/>s.</summary>
public static class WireFormats
{
    /// <summary>The config names, in <see cref="WireFormat"/> order: <c>float32</c>, <c>bfloat16</c>, <c>float16</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["float32", "bfloat16", "float16"];

    /// <summary>The format a config name stands for.</summary>
    /// <exception cref="ArgumentException">not one of <see cref="Names"/>.</exception>
    public static WireFormat Parse(string name)
    {
        var index = Names.ToList().IndexOf(name?.Trim() ?? "");
        return index >= 0
            ? (WireFormat)index
            : throw new ArgumentException($"wire: '{name}' is not a wire format; valid: {string.Join(", ", Names)}");
    }

    /// <summary>The config name of <paramref name="format"/>.</summary>
    public static string Name(this WireFormat format) => Names[(int)format];

    /// <summary>Bytes per value on the wire.</summary>
    public static int BytesPerValue(this WireFormat format) => format == WireFormat.Float32 ? 4 : 2;

    /// <summary>
    /// The smallest float32 magnitude that no longer fits <paramref name="format"/>: it (and anything larger) rounds to
    /// ±∞. +∞ for float32.
    /// </summary>
    public static float OverflowThreshold(this WireFormat format) => format switch
    {
        // bfloat16's largest finite value is 0x7F7F0000; halfway to the next (0x7F800000, ∞) rounds to even, i.e. to ∞.
        WireFormat.BFloat16 => BitConverter.UInt32BitsToSingle(0x7F7F8000),
        // binary16's largest finite value is 65504 (ulp 32 there); 65520 is halfway to 65536 and rounds to even: ∞.
        WireFormat.Float16 => 65520f,
        _ => float.PositiveInfinity,
    };

    /// <summary>
    /// The first value of <paramref name="values"/> that does not survive <paramref name="format"/> as a finite number
    /// (a NaN, ±∞, or a magnitude the format cannot hold), or null when every one does.
    /// </summary>
    public static (int Index, float Value)? FirstUnfit(this WireFormat format, ReadOnlySpan<float> values)
    {
        var threshold = format.OverflowThreshold();
        for (var i = 0; i < values.Length; i++)
        {
            // NaN fails the comparison too.
            if (!(Math.Abs(values[i]) < threshold))
            {
                return (i, values[i]);
            }
        }

        return null;
    }
}
