using System.Numerics.Tensors;

namespace Dstar.Engine.Collection;

/// <summary>The collector's finiteness check, vectorized: it runs on every accepted gradient, so it is on the hot path.</summary>
internal static class Finite
{
    /// <summary>
    /// True when every value is finite. The largest magnitude is NaN when any value is NaN and +∞ when any is ±∞
    /// (TensorPrimitives.MaxMagnitude propagates NaN), so one vectorized reduction decides. Empty spans count as finite.
    /// </summary>
    public static bool All(ReadOnlySpan<float> values) => values.IsEmpty || float.IsFinite(TensorPrimitives.MaxMagnitude(values));
}
