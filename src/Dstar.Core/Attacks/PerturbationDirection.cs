using System.Numerics.Tensors;

namespace Dstar.Core.Attacks;

/// <summary>
/// The direction p of the Byzantine vector μ + γp in Min-Max, Min-Sum (Shejwalkar &amp; Houmansadr 2021, §IV) and
/// the adaptive dSTAR attack. Spec spelling: <c>direction=std|unit|sign</c>.
/// </summary>
public enum PerturbationDirection
{
    /// <summary><c>std</c>: p = −σ, against the coordinate-wise standard deviation of the honest rows.</summary>
    StandardDeviation,

    /// <summary><c>unit</c>: p = −μ/‖μ‖, against the honest mean (p = 0 when μ = 0).</summary>
    UnitMean,

    /// <summary><c>sign</c>: p = −sign(μ), against the sign of each coordinate of the mean (sign(0) = 0).</summary>
    Sign,
}

/// <summary>Spec names of <see cref="PerturbationDirection"/> and the vector each one denotes.</summary>
internal static class Perturbation
{
    public static readonly string[] Names = ["std", "unit", "sign"];

    public static PerturbationDirection Parse(string name) => name switch
    {
        "std" => PerturbationDirection.StandardDeviation,
        "unit" => PerturbationDirection.UnitMean,
        "sign" => PerturbationDirection.Sign,
        _ => throw new ArgumentException($"unknown direction '{name}' (valid: {string.Join(", ", Names)})"),
    };

    /// <summary>Writes p for <paramref name="direction"/> into <paramref name="output"/> (length d).</summary>
    public static void Write(PerturbationDirection direction, ReadOnlySpan<float> mean, ReadOnlySpan<float> standardDeviation, Span<float> output)
    {
        switch (direction)
        {
            case PerturbationDirection.StandardDeviation:
                TensorPrimitives.Negate(standardDeviation, output);
                break;
            case PerturbationDirection.UnitMean:
                float norm = TensorPrimitives.Norm(mean);
                if (norm > 0)
                {
                    TensorPrimitives.Multiply(mean, -1f / norm, output);
                }
                else
                {
                    output.Clear();
                }

                break;
            default:
                for (int j = 0; j < output.Length; j++)
                {
                    // Written out rather than MathF.Sign, which throws on NaN.
                    output[j] = mean[j] > 0 ? -1f : mean[j] < 0 ? 1f : 0f;
                }

                break;
        }
    }
}
