using System.Numerics.Tensors;
using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Core.Attacks;

/// <summary>
/// Mimic (Karimireddy, He &amp; Jaggi, "Byzantine-robust learning on heterogeneous datasets via bucketing", ICLR 2022,
/// §5): every Byzantine worker sends the same real honest gradient x_{i*}, the one that adds the most variance along
/// the top principal direction v of the honest set: i* = argmaxᵢ |⟨xᵢ − μ, v⟩|. Over-representing one worker's data
/// biases the aggregate under heterogeneity while every row stays an honest, unremarkable one.
/// Spec: <c>mimic [iterations=50]</c>, 1 ≤ iterations ≤ 10,000.
/// </summary>
/// <remarks>
/// v is found by power iteration on the centred rows, v ← Σᵢ ⟨xᵢ − μ, v⟩ (xᵢ − μ), normalised, from a start drawn
/// from <see cref="AttackContext.Random"/>: never the d×d covariance. (The paper estimates v online across rounds; we
/// recompute it each round, which needs no state between rounds.) Ties pick the lowest index; when every row equals μ
/// it sends row 0. The iteration stops early once v moves by less than 10⁻⁶ in cosine. Omniscient; needs at least
/// one honest row. Cost O(iterations·h·d) at most. Not thread-safe.
/// </remarks>
public sealed class Mimic : IAttack
{
    private float[]? _mean;
    private float[]? _direction;
    private float[]? _next;
    private float[]? _centred;

    /// <summary>Creates the attack with <paramref name="iterations"/> power-iteration steps.</summary>
    /// <exception cref="ArgumentException">iterations is outside 1..10,000.</exception>
    public Mimic(int iterations = 50)
    {
        Iterations = (int)ParameterChecks.InRange("mimic", "iterations", iterations, 1, 10_000);
    }

    /// <summary>Power-iteration steps per round.</summary>
    public int Iterations { get; }

    /// <summary>The honest row index sent in the last <see cref="Craft"/> (−1 before the first).</summary>
    public int LastChosen { get; private set; } = -1;

    /// <inheritdoc />
    public string Name => "mimic";

    /// <inheritdoc />
    public bool IsOmniscient => true;

    /// <inheritdoc />
    public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
    {
        AttackChecks.Shapes(Name, honest, byzantine, needsHonest: true);
        ArgumentNullException.ThrowIfNull(context);
        int d = honest.Dimension;
        var mean = Scratch.Exactly(ref _mean, d);
        var direction = Scratch.Exactly(ref _direction, d);
        var next = Scratch.Exactly(ref _next, d);
        var centred = Scratch.Exactly(ref _centred, d);
        ColumnStatistics.Mean(honest, mean);

        StandardNormal.Fill(context.Random, direction);
        Normalise(direction);
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            next.AsSpan().Clear();
            for (int i = 0; i < honest.Count; i++)
            {
                // Centre explicitly rather than subtracting ⟨μ, v⟩: gradients of one round are close to one another
                // next to their norm, and the difference of two large dot products would cancel in float.
                TensorPrimitives.Subtract(honest.Row(i), mean, centred);
                TensorPrimitives.MultiplyAdd(centred, TensorPrimitives.Dot<float>(centred, direction), next, next);
            }

            if (TensorPrimitives.Norm<float>(next) == 0)
            {
                break; // no spread along v (or at all): any direction is as good, keep the current one
            }

            Normalise(next);
            float alignment = TensorPrimitives.Dot<float>(next, direction);
            next.CopyTo(direction, 0);
            if (alignment > 1 - 1e-6f)
            {
                break; // converged: another step would not change which row is chosen
            }
        }

        int chosen = 0;
        float best = -1;
        for (int i = 0; i < honest.Count; i++)
        {
            TensorPrimitives.Subtract(honest.Row(i), mean, centred);
            float projection = MathF.Abs(TensorPrimitives.Dot<float>(centred, direction));
            if (projection > best)
            {
                (chosen, best) = (i, projection);
            }
        }

        LastChosen = chosen;
        AttackChecks.FillRows(byzantine, honest.Row(chosen));
    }

    private static void Normalise(Span<float> vector)
    {
        float norm = TensorPrimitives.Norm<float>(vector);
        if (norm > 0 && float.IsFinite(norm))
        {
            TensorPrimitives.Multiply(vector, 1 / norm, vector);
        }
        else
        {
            vector.Clear();
            vector[0] = 1;
        }
    }
}
